locals {
  name = "${var.cluster_name}-${var.pool_name}"
  tag  = "gpuforge-${local.name}"

  labels = merge(var.labels, {
    "gpuforge-cluster"   = var.cluster_name
    "gpuforge-pool"      = var.pool_name
    "gpuforge-gpu-model" = lower(var.gpu_model)
    "gpuforge-gpu-count" = tostring(var.gpu_count)
    "gpuforge-market"    = var.market
  })

  ##############################################################################
  # GPUs
  ##############################################################################

  # A2, A3, A4 and G2 machine types come with their GPUs; N1 needs them attached.
  machine_family = split("-", var.instance_type)[0]
  n1_accelerator_types = {
    "T4"   = "nvidia-tesla-t4"
    "V100" = "nvidia-tesla-v100"
    "P100" = "nvidia-tesla-p100"
    "P4"   = "nvidia-tesla-p4"
  }
  guest_accelerators = local.machine_family == "n1" && var.gpu_count > 0 ? [{
    type  = lookup(local.n1_accelerator_types, upper(var.gpu_model), null)
    count = var.gpu_count
  }] : []

  ##############################################################################
  # Market
  ##############################################################################

  # Market of instance i: spot-with-fallback keeps the first on_demand_base_capacity
  # instances standard so the pool never drops below them when spot capacity is reclaimed.
  node_markets = [
    for index in range(var.node_count) : (
      var.market == "on-demand" ? "on-demand" :
      var.market == "spot-with-fallback" && index < var.on_demand_base_capacity ? "on-demand" : "spot"
    )
  ]

  ##############################################################################
  # Storage
  ##############################################################################

  scratch_disk_type = var.scratch_iops != null || var.scratch_throughput_mbps != null ? "hyperdisk-balanced" : "pd-ssd"
}

################################################################################
# Placement
################################################################################

resource "google_compute_resource_policy" "placement" {
  count = var.placement_group ? 1 : 0

  name    = "${local.name}-compact"
  project = var.project
  region  = var.region

  group_placement_policy {
    collocation = "COLLOCATED"
  }
}

################################################################################
# Scratch disks
################################################################################

resource "google_compute_disk" "scratch" {
  #checkov:skip=CKV_GCP_37: customer-supplied keys (CSEK) would put raw key material in the Terraform state; disks use Google-managed keys or the CMEK given in kms_key_self_link
  count = var.scratch_gb > 0 ? var.node_count : 0

  name                   = format("%s-%d-scratch", local.name, count.index)
  project                = var.project
  zone                   = var.zone
  type                   = local.scratch_disk_type
  size                   = var.scratch_gb
  provisioned_iops       = local.scratch_disk_type == "hyperdisk-balanced" ? var.scratch_iops : null
  provisioned_throughput = local.scratch_disk_type == "hyperdisk-balanced" ? var.scratch_throughput_mbps : null
  labels                 = local.labels

  dynamic "disk_encryption_key" {
    for_each = var.kms_key_self_link == null ? [] : [var.kms_key_self_link]

    content {
      kms_key_self_link = disk_encryption_key.value
    }
  }
}

################################################################################
# Instances
################################################################################

resource "google_compute_instance" "node" {
  #checkov:skip=CKV_GCP_38: customer-supplied keys (CSEK) would put raw key material in the Terraform state; the boot disk uses Google-managed keys or the CMEK given in kms_key_self_link
  #checkov:skip=CKV_GCP_40: the access_config block is only generated when public_ip is true (default false); checkov cannot evaluate the dynamic block's condition
  count = var.node_count

  name                = format("%s-%d", local.name, count.index)
  project             = var.project
  zone                = var.zone
  machine_type        = var.instance_type
  tags                = [local.tag]
  labels              = merge(local.labels, { "gpuforge-market" = local.node_markets[count.index] })
  can_ip_forward      = false
  deletion_protection = false
  resource_policies   = var.placement_group ? [google_compute_resource_policy.placement[0].id] : []

  metadata = merge(
    {
      "block-project-ssh-keys" = "true"
      "serial-port-enable"     = "false"
    },
    var.ssh_public_key == null ? {} : { "ssh-keys" = "${var.ssh_user}:${var.ssh_public_key}" },
  )

  boot_disk {
    auto_delete       = true
    kms_key_self_link = var.kms_key_self_link

    initialize_params {
      image  = var.image
      size   = var.root_gb
      type   = var.boot_disk_type
      labels = local.labels
    }
  }

  dynamic "attached_disk" {
    for_each = var.scratch_gb > 0 ? [google_compute_disk.scratch[count.index].id] : []

    content {
      source            = attached_disk.value
      device_name       = "scratch"
      kms_key_self_link = var.kms_key_self_link
    }
  }

  network_interface {
    subnetwork = local.subnetwork
    nic_type   = "GVNIC"

    dynamic "access_config" {
      for_each = var.public_ip ? [1] : []

      content {
        network_tier = "PREMIUM"
      }
    }
  }

  dynamic "network_interface" {
    for_each = var.gpu_nic_subnetworks

    content {
      subnetwork = network_interface.value
      nic_type   = "GVNIC"
    }
  }

  dynamic "guest_accelerator" {
    for_each = local.guest_accelerators

    content {
      type  = guest_accelerator.value.type
      count = guest_accelerator.value.count
    }
  }

  # GPU instances cannot live-migrate: they stop for host maintenance. Spot instances stop
  # (not delete) when reclaimed, so that they come back with their disks and names.
  scheduling {
    on_host_maintenance         = "TERMINATE"
    provisioning_model          = local.node_markets[count.index] == "spot" ? "SPOT" : "STANDARD"
    preemptible                 = local.node_markets[count.index] == "spot"
    automatic_restart           = local.node_markets[count.index] != "spot"
    instance_termination_action = local.node_markets[count.index] == "spot" ? "STOP" : null
  }

  shielded_instance_config {
    enable_secure_boot          = var.secure_boot
    enable_vtpm                 = true
    enable_integrity_monitoring = true
  }

  dynamic "service_account" {
    for_each = var.service_account_email == null ? [] : [var.service_account_email]

    content {
      email  = service_account.value
      scopes = ["cloud-platform"]
    }
  }

  lifecycle {
    precondition {
      condition     = local.machine_family != "n1" || var.gpu_count == 0 || contains(keys(local.n1_accelerator_types), upper(var.gpu_model))
      error_message = "N1 machine types take attached GPUs of model T4, V100, P100 or P4; ${var.gpu_model} comes built into A2/A3/A4/G2 machine types instead."
    }
  }
}
