output "nodes" {
  description = "The nodes contract shared by every gpuforge cluster module: one object per VM with name, private_ip (its static address), pool, gpu_model, gpu_count, instance_type (the label given, or null), market and zone (null)."
  value = [
    for index, vm in vsphere_virtual_machine.node : {
      name          = vm.name
      private_ip    = local.addresses[index]
      pool          = var.pool_name
      gpu_model     = var.gpu_model
      gpu_count     = var.gpu_count
      instance_type = var.instance_type
      market        = var.market
      zone          = null
    }
  ]
}

output "vm_ids" {
  description = "Managed object IDs (UUIDs) of the VMs, in index order."
  value       = vsphere_virtual_machine.node[*].id
}
