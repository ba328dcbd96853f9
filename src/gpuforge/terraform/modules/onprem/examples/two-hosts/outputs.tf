output "nodes" {
  description = "The two hosts, in the gpuforge nodes contract."
  value       = module.onprem.nodes
}
