output "nodes" {
  description = "The nodes contract shared by every gpuforge cluster module: one object per VM (named by computer name) with name, private_ip, pool, gpu_model, gpu_count, instance_type, market (of its scale set) and zone."
  value = flatten([
    for key in sort(keys(local.scale_sets)) : [
      for vm in data.azurerm_virtual_machine_scale_set.pool[key].instances : {
        name          = vm.computer_name
        private_ip    = vm.private_ip_address
        pool          = var.pool_name
        gpu_model     = var.gpu_model
        gpu_count     = var.gpu_count
        instance_type = var.instance_type
        market        = local.scale_sets[key].market
        zone          = vm.zone == "" ? null : vm.zone
      }
    ]
  ])
}

output "scale_set_ids" {
  description = "Map of scale set role (`regular`, `spot`) to scale set ID."
  value       = { for key, set in azurerm_linux_virtual_machine_scale_set.pool : key => set.id }
}

output "network_security_group_id" {
  description = "ID of the VMs' network security group."
  value       = azurerm_network_security_group.nodes.id
}

output "subnet_id" {
  description = "ID of the subnet the VMs run in (created or existing)."
  value       = local.subnet_id
}

output "proximity_placement_group_id" {
  description = "ID of the proximity placement group, or null when placement_group is false."
  value       = try(azurerm_proximity_placement_group.this[0].id, null)
}
