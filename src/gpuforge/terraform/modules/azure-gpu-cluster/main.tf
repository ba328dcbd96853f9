locals {
  name = "${var.cluster_name}-${var.pool_name}"

  tags = merge(var.tags, {
    "gpuforge-cluster"   = var.cluster_name
    "gpuforge-pool"      = var.pool_name
    "gpuforge-gpu-model" = var.gpu_model
    "gpuforge-gpu-count" = tostring(var.gpu_count)
    "gpuforge-market"    = var.market
  })

  # A Uniform scale set has one priority, so spot-with-fallback takes two: a Regular one for
  # the on-demand base and a Spot one for the rest. Empty scale sets are not created.
  regular_count = {
    "on-demand"          = var.node_count
    "spot"               = 0
    "spot-with-fallback" = min(var.on_demand_base_capacity, var.node_count)
  }[var.market]

  scale_sets = {
    for key, set in {
      regular = { priority = "Regular", count = local.regular_count, market = "on-demand" }
      spot    = { priority = "Spot", count = var.node_count - local.regular_count, market = "spot" }
    } : key => set if set.count > 0
  }

  # A scheduled node count splits over the scale sets as node_count does above.
  scheduled = {
    for key, set in local.scale_sets : key => [
      for action in var.schedules : merge(action, {
        regular = var.market == "on-demand" ? action.nodes : var.market == "spot" ? 0 : min(var.on_demand_base_capacity, action.nodes)
      })
    ]
  }

  scratch_disk_type = var.scratch_iops != null || var.scratch_throughput_mbps != null ? "PremiumV2_LRS" : "Premium_LRS"
}

################################################################################
# Placement
################################################################################

resource "azurerm_proximity_placement_group" "this" {
  count = var.placement_group ? 1 : 0

  name                = local.name
  resource_group_name = var.resource_group_name
  location            = var.location
  tags                = local.tags
}

################################################################################
# Scale sets
################################################################################

# Uniform orchestration: InfiniBand connects the VMs of one scale set placement group, which
# `single_placement_group` keeps to at most 100 VMs on one fabric; Uniform also gives every
# VM the same model and lets the data source below list each VM's private address.
resource "azurerm_linux_virtual_machine_scale_set" "pool" {
  for_each = local.scale_sets

  name                         = "${local.name}-${each.key}"
  resource_group_name          = var.resource_group_name
  location                     = var.location
  sku                          = var.instance_type
  instances                    = each.value.count
  zones                        = var.zone == null ? null : [var.zone]
  admin_username               = var.admin_username
  computer_name_prefix         = "${local.name}-${substr(each.key, 0, 1)}"
  upgrade_mode                 = "Manual"
  overprovision                = false
  single_placement_group       = true
  proximity_placement_group_id = var.placement_group ? azurerm_proximity_placement_group.this[0].id : null
  encryption_at_host_enabled   = var.encryption_at_host
  provision_vm_agent           = true
  priority                     = each.value.priority
  eviction_policy              = each.value.priority == "Spot" ? var.spot_eviction_policy : null
  max_bid_price                = each.value.priority == "Spot" ? var.spot_max_price : null
  tags                         = merge(local.tags, { "gpuforge-market" = each.value.market })

  disable_password_authentication = true

  admin_ssh_key {
    username   = var.admin_username
    public_key = var.ssh_public_key
  }

  source_image_reference {
    publisher = var.image.publisher
    offer     = var.image.offer
    sku       = var.image.sku
    version   = var.image.version
  }

  os_disk {
    caching                = "ReadWrite"
    storage_account_type   = "Premium_LRS"
    disk_size_gb           = var.root_gb
    disk_encryption_set_id = var.disk_encryption_set_id
  }

  dynamic "data_disk" {
    for_each = var.scratch_gb > 0 ? [var.scratch_gb] : []

    content {
      lun                            = 0
      caching                        = "None"
      storage_account_type           = local.scratch_disk_type
      disk_size_gb                   = data_disk.value
      ultra_ssd_disk_iops_read_write = local.scratch_disk_type == "PremiumV2_LRS" ? var.scratch_iops : null
      ultra_ssd_disk_mbps_read_write = local.scratch_disk_type == "PremiumV2_LRS" ? var.scratch_throughput_mbps : null
      disk_encryption_set_id         = var.disk_encryption_set_id
    }
  }

  network_interface {
    name                          = "primary"
    primary                       = true
    enable_accelerated_networking = true
    network_security_group_id     = azurerm_network_security_group.nodes.id

    ip_configuration {
      name      = "primary"
      primary   = true
      subnet_id = local.subnet_id

      dynamic "public_ip_address" {
        for_each = var.public_ip ? [1] : []

        content {
          name = "public"
        }
      }
    }
  }

  boot_diagnostics {
    storage_account_uri = null
  }
}

################################################################################
# Nodes
################################################################################

# The data source lists each VM of a scale set with its private address and zone, once the
# scale set exists (so the nodes output is known after apply, not at plan time).
data "azurerm_virtual_machine_scale_set" "pool" {
  for_each = local.scale_sets

  name                = azurerm_linux_virtual_machine_scale_set.pool[each.key].name
  resource_group_name = var.resource_group_name
}

################################################################################
# Scheduled scaling
################################################################################

# The `cost.schedule` windows as autoscale profiles: a recurring profile holds from its weekly
# start (UTC) until the next profile starts. The scale sets keep node_count in Terraform, so an
# apply inside a window scales the pool back up until the window's next profile starts.
resource "azurerm_monitor_autoscale_setting" "pool" {
  for_each = length(var.schedules) > 0 ? local.scale_sets : {}

  name                = "${local.name}-${each.key}-schedule"
  resource_group_name = var.resource_group_name
  location            = var.location
  target_resource_id  = azurerm_linux_virtual_machine_scale_set.pool[each.key].id
  tags                = local.tags

  dynamic "profile" {
    for_each = local.scheduled[each.key]

    content {
      name = profile.value.name

      capacity {
        default = each.key == "regular" ? profile.value.regular : profile.value.nodes - profile.value.regular
        minimum = each.key == "regular" ? profile.value.regular : profile.value.nodes - profile.value.regular
        maximum = each.key == "regular" ? profile.value.regular : profile.value.nodes - profile.value.regular
      }

      recurrence {
        timezone = "UTC"
        days     = profile.value.days
        hours    = [profile.value.hour]
        minutes  = [profile.value.minute]
      }
    }
  }
}
