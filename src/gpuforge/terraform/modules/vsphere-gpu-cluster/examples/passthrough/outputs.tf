output "nodes" {
  description = "The pool's VMs, in the gpuforge nodes contract."
  value       = module.training.nodes
}
