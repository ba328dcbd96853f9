output "nodes" {
  description = "The nodes contract shared by every gpuforge cluster module: one object per instance with name, private_ip, pool, gpu_model, gpu_count, instance_type, market (per instance) and zone."
  value = [
    for index, node in google_compute_instance.node : {
      name          = node.name
      private_ip    = node.network_interface[0].network_ip
      pool          = var.pool_name
      gpu_model     = var.gpu_model
      gpu_count     = var.gpu_count
      instance_type = var.instance_type
      market        = local.node_markets[index]
      zone          = node.zone
    }
  ]
}

output "instance_self_links" {
  description = "Self links of the instances, in index order."
  value       = google_compute_instance.node[*].self_link
}

output "network" {
  description = "Self link of the VPC network the pool runs in (created or existing)."
  value       = local.network
}

output "subnetwork" {
  description = "Self link of the subnetwork of the nodes' first NIC (created or existing)."
  value       = local.subnetwork
}

output "network_tag" {
  description = "Network tag carried by every instance; the firewall rules target it."
  value       = local.tag
}

output "placement_policy_id" {
  description = "ID of the compact placement policy, or null when placement_group is false."
  value       = try(google_compute_resource_policy.placement[0].id, null)
}
