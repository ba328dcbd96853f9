output "nodes" {
  description = "The nodes contract shared by every gpuforge cluster module: one object per node with name, private_ip, pool, gpu_model, gpu_count, instance_type (the fleet profile), market and zone (always null here)."
  value = [
    for name in local.node_names : {
      name          = name
      private_ip    = null_resource.node[name].triggers.address
      pool          = var.pool_name
      gpu_model     = var.gpu_model
      gpu_count     = var.gpu_count
      instance_type = var.profile
      market        = var.market
      zone          = null
    }
  ]
}

output "node_ids" {
  description = "Map of node name to the id of the null_resource that owns it (changes when a node is replaced)."
  value       = { for name, node in null_resource.node : name => node.id }
}

output "subnet" {
  description = "The fleet subnet the nodes live in."
  value       = var.subnet
}
