output "nodes" {
  description = "The nodes contract shared by every gpuforge cluster module: one object per host with name, private_ip, pool, gpu_model, gpu_count, instance_type, market and zone."
  value       = local.nodes
}

output "nodes_by_pool" {
  description = "Map of pool name to the names of its hosts, in declaration order."
  value       = { for pool in local.pools : pool => [for host in var.hosts : host.name if host.pool == pool] }
}

output "cluster_name" {
  description = "Name of the cluster, passed through for the inventory."
  value       = var.cluster_name
}
