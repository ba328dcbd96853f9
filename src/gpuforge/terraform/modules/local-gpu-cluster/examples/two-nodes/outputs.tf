output "nodes" {
  description = "The two nodes, in the gpuforge nodes contract."
  value       = module.train.nodes
}
