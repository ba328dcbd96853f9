output "nodes" {
  description = "The pool's instances, in the gpuforge nodes contract."
  value       = module.inference.nodes
}

output "security_group_id" {
  description = "Security group of the pool."
  value       = module.inference.security_group_id
}
