locals {
  name = "${var.cluster_name}-${var.pool_name}"

  node_names = [for index in range(var.node_count) : format("%s-%d", local.name, index)]
  addresses  = [for index in range(var.node_count) : cidrhost(var.ipv4_cidr, var.first_host + index)]
  netmask    = tonumber(split("/", var.ipv4_cidr)[1])

  has_gpus = length(var.pci_device_ids) > 0 || var.vgpu_profile != null

  # cloud-init (VMware guestinfo data source): the SSH user and key, and a guest firewall
  # that admits SSH only from ssh_cidrs, since a vSphere port group filters nothing.
  user_data = join("\n", concat(
    ["#cloud-config"],
    var.ssh_public_key == null ? [] : [
      "users:",
      "  - name: ${var.ssh_user}",
      "    sudo: ALL=(ALL) NOPASSWD:ALL",
      "    shell: /bin/bash",
      "    ssh_authorized_keys:",
      "      - ${var.ssh_public_key}",
    ],
    [
      "runcmd:",
      "  - [ufw, default, deny, incoming]",
      "  - [ufw, allow, from, ${var.ipv4_cidr}]",
    ],
    [for cidr in var.ssh_cidrs : "  - [ufw, allow, from, ${cidr}, to, any, port, '22', proto, tcp]"],
    ["  - [ufw, --force, enable]", ""],
  ))
}

data "vsphere_datacenter" "this" {
  name = var.datacenter
}

data "vsphere_compute_cluster" "this" {
  name          = var.compute_cluster
  datacenter_id = data.vsphere_datacenter.this.id
}

data "vsphere_datastore" "this" {
  name          = var.datastore
  datacenter_id = data.vsphere_datacenter.this.id
}

data "vsphere_network" "this" {
  name          = var.network
  datacenter_id = data.vsphere_datacenter.this.id
}

data "vsphere_virtual_machine" "template" {
  name          = var.template
  datacenter_id = data.vsphere_datacenter.this.id
}

################################################################################
# VMs
################################################################################

resource "vsphere_virtual_machine" "node" {
  count = var.node_count

  name              = local.node_names[count.index]
  annotation        = "gpuforge cluster=${var.cluster_name} pool=${var.pool_name} gpu=${var.gpu_count}x${var.gpu_model}"
  resource_pool_id  = data.vsphere_compute_cluster.this.resource_pool_id
  datastore_id      = data.vsphere_datastore.this.id
  folder            = var.folder
  host_system_id    = length(var.host_system_ids) > 0 ? var.host_system_ids[count.index] : null
  storage_policy_id = var.storage_policy_id
  tags              = var.tags

  num_cpus  = var.num_cpus
  memory    = var.memory_mb
  guest_id  = data.vsphere_virtual_machine.template.guest_id
  scsi_type = data.vsphere_virtual_machine.template.scsi_type
  firmware  = "efi"

  # Passthrough and vGPU need all guest memory reserved (a vGPU comes with the template: the
  # provider has no argument that adds one); locking the reservation to the
  # memory size keeps it so when the memory is later changed.
  memory_reservation               = local.has_gpus ? var.memory_mb : null
  memory_reservation_locked_to_max = local.has_gpus
  pci_device_id                    = length(var.pci_device_ids) > 0 ? var.pci_device_ids[count.index] : null

  # GPUs with large BARs (A100, H100) need 64-bit MMIO above 4 GiB in the guest.
  extra_config = merge(
    local.has_gpus ? {
      "pciPassthru.use64bitMMIO"    = "TRUE"
      "pciPassthru.64bitMMIOSizeGB" = tostring(max(64, 128 * var.gpu_count))
    } : {},
    {
      "guestinfo.userdata"          = base64encode(local.user_data)
      "guestinfo.userdata.encoding" = "base64"
    },
  )

  network_interface {
    network_id   = data.vsphere_network.this.id
    adapter_type = "vmxnet3"
  }

  disk {
    label            = "os"
    size             = max(var.root_gb, data.vsphere_virtual_machine.template.disks[0].size)
    thin_provisioned = data.vsphere_virtual_machine.template.disks[0].thin_provisioned
    unit_number      = 0
  }

  dynamic "disk" {
    for_each = var.scratch_gb > 0 ? [var.scratch_gb] : []

    content {
      label            = "scratch"
      size             = disk.value
      thin_provisioned = false
      eagerly_scrub    = false
      io_limit         = var.scratch_iops
      unit_number      = 1
    }
  }

  clone {
    template_uuid = data.vsphere_virtual_machine.template.id

    customize {
      linux_options {
        host_name = local.node_names[count.index]
        domain    = var.domain
      }

      network_interface {
        ipv4_address = local.addresses[count.index]
        ipv4_netmask = local.netmask
      }

      ipv4_gateway    = var.ipv4_gateway
      dns_server_list = var.dns_servers
    }
  }

  lifecycle {
    precondition {
      condition     = length(var.pci_device_ids) == 0 || length(var.pci_device_ids) == var.node_count
      error_message = "pci_device_ids needs one list of device IDs per VM (${var.node_count}), or none."
    }

    precondition {
      condition     = length(var.host_system_ids) == 0 || length(var.host_system_ids) == var.node_count
      error_message = "host_system_ids needs one host per VM (${var.node_count}), or none."
    }

    precondition {
      condition     = !(length(var.pci_device_ids) > 0 && var.vgpu_profile != null)
      error_message = "Choose PCI passthrough (pci_device_ids) or a vGPU profile (vgpu_profile), not both."
    }
  }
}

resource "vsphere_compute_cluster_vm_affinity_rule" "pool" {
  count = var.placement_group && var.node_count > 1 ? 1 : 0

  name                = "${local.name}-together"
  compute_cluster_id  = data.vsphere_compute_cluster.this.id
  virtual_machine_ids = vsphere_virtual_machine.node[*].id
}
