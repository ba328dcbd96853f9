output "nodes" {
  description = "The pool's instances, in the gpuforge nodes contract."
  value       = module.training.nodes
}
