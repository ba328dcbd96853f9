output "nodes" {
  description = "The pool's instances, in the gpuforge nodes contract."
  value       = module.training.nodes
}

output "efa_interface_count" {
  description = "EFA interfaces per instance (32 on p5.48xlarge)."
  value       = module.training.efa_interface_count
}
