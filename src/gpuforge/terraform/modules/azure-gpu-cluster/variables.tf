################################################################################
# Cluster and pool
################################################################################

variable "cluster_name" {
  description = "Name of the cluster; prefixes every resource name and is tagged as `gpuforge-cluster`."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}[a-z0-9]$", var.cluster_name))
    error_message = "The cluster_name must be 2-32 characters of lowercase letters, digits and '-', starting with a letter and not ending with '-'."
  }
}

variable "pool_name" {
  description = "Name of the node pool this module call creates; tagged as `gpuforge-pool`."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,22}[a-z0-9]$", var.pool_name))
    error_message = "The pool_name must be 2-24 characters of lowercase letters, digits and '-', starting with a letter and not ending with '-'."
  }
}

variable "node_count" {
  description = "Number of VMs in the pool."
  type        = number

  validation {
    condition     = var.node_count >= 0 && floor(var.node_count) == var.node_count
    error_message = "The node_count must be a whole number, 0 or more."
  }
}

variable "tags" {
  description = "Extra tags for every resource; gpuforge's own `gpuforge-*` tags are added on top."
  type        = map(string)
  default     = {}
}

variable "resource_group_name" {
  description = "Existing resource group that receives every resource of the pool."
  type        = string
}

variable "location" {
  description = "Azure region, for example `eastus`."
  type        = string
}

variable "zone" {
  description = "Availability zone of the scale set (for example `1`); null for a regional deployment."
  type        = string
  default     = null
}

################################################################################
# Instances
################################################################################

variable "instance_type" {
  description = "VM size, for example `Standard_ND96isr_H100_v5`. ND sizes ending in `r` (ND96asr_v4, ND96amsr_A100_v4, ND96isr_H100_v5, ND96isr_H200_v5) carry InfiniBand HCAs."
  type        = string

  validation {
    condition     = can(regex("^Standard_[A-Za-z0-9_]+$", var.instance_type))
    error_message = "The instance_type must be an Azure VM size such as Standard_ND96isr_H100_v5."
  }
}

variable "gpu_model" {
  description = "GPU model of the VM size (for example `H100`); tagged as `gpuforge-gpu-model` and reported in the nodes output."
  type        = string
}

variable "gpu_count" {
  description = "GPUs per VM; tagged as `gpuforge-gpu-count` and reported in the nodes output."
  type        = number

  validation {
    condition     = var.gpu_count >= 0 && floor(var.gpu_count) == var.gpu_count
    error_message = "The gpu_count must be a whole number, 0 or more."
  }
}

variable "image" {
  description = "Marketplace image of the VMs. The default is Microsoft's Ubuntu 22.04 HPC image, which carries the InfiniBand (MOFED) stack."
  type = object({
    publisher = string
    offer     = string
    sku       = string
    version   = string
  })
  default = {
    publisher = "microsoft-dsvm"
    offer     = "ubuntu-hpc"
    sku       = "2204"
    version   = "latest"
  }
}

variable "admin_username" {
  description = "Administrator user created on every VM; it logs in only with `ssh_public_key`."
  type        = string
  default     = "gpuforge"
}

variable "encryption_at_host" {
  description = "Encrypt temp disks and caches on the host as well (needs the `EncryptionAtHost` feature registered on the subscription)."
  type        = bool
  default     = true
}

################################################################################
# Market
################################################################################

variable "market" {
  description = "How the pool buys capacity. Valid values are `on-demand`, `spot` or `spot-with-fallback` (a Regular-priority scale set of `on_demand_base_capacity` VMs plus a Spot scale set for the rest)."
  type        = string
  default     = "on-demand"

  validation {
    condition     = contains(["on-demand", "spot", "spot-with-fallback"], var.market)
    error_message = "The market must be one of on-demand, spot or spot-with-fallback."
  }
}

variable "on_demand_base_capacity" {
  description = "With `spot-with-fallback`: number of Regular-priority VMs kept whatever spot capacity does."
  type        = number
  default     = 1

  validation {
    condition     = var.on_demand_base_capacity >= 0 && floor(var.on_demand_base_capacity) == var.on_demand_base_capacity
    error_message = "The on_demand_base_capacity must be a whole number, 0 or more."
  }
}

variable "spot_eviction_policy" {
  description = "What Azure does with an evicted spot VM. Valid values are `Deallocate` (keeps disks, restarts later) or `Delete`."
  type        = string
  default     = "Deallocate"

  validation {
    condition     = contains(["Deallocate", "Delete"], var.spot_eviction_policy)
    error_message = "The spot_eviction_policy must be Deallocate or Delete."
  }
}

variable "spot_max_price" {
  description = "Highest hourly price, in USD, paid for a spot VM; -1 pays up to the regular price and evicts only for capacity."
  type        = number
  default     = -1

  validation {
    condition     = var.spot_max_price == -1 || var.spot_max_price > 0
    error_message = "The spot_max_price must be -1 or a positive price."
  }
}

################################################################################
# Network
################################################################################

variable "subnet_id" {
  description = "Existing subnet for the VMs. Null creates a virtual network (`vnet_cidr`) with one subnet and the pool's network security group."
  type        = string
  default     = null
}

variable "vnet_cidr" {
  description = "Address space of the created virtual network; the VM subnet is its first /20."
  type        = string
  default     = "10.44.0.0/16"

  validation {
    condition     = can(cidrhost(var.vnet_cidr, 0)) && tonumber(split("/", var.vnet_cidr)[1]) <= 20
    error_message = "The vnet_cidr must be an IPv4 CIDR block of /20 or larger, such as 10.44.0.0/16."
  }
}

variable "public_ip" {
  description = "Give each VM a public IP address. Off by default: VMs are reached over private addressing."
  type        = bool
  default     = false
}

variable "ssh_cidrs" {
  description = "IPv4 CIDR blocks allowed to reach the VMs on TCP 22 (the Ansible controller, a bastion, a VPN). Open-to-the-world blocks are refused."
  type        = list(string)

  validation {
    condition     = alltrue([for cidr in var.ssh_cidrs : can(cidrhost(cidr, 0))])
    error_message = "Every ssh_cidrs entry must be a CIDR block such as 10.0.0.0/8."
  }

  validation {
    condition     = alltrue([for cidr in var.ssh_cidrs : tonumber(split("/", cidr)[1]) > 0])
    error_message = "SSH may not be opened to the whole internet (a /0 block): list the controller's or the VPN's CIDR blocks instead."
  }
}

variable "ssh_public_key" {
  description = "OpenSSH public key of `admin_username`; password login is disabled."
  type        = string
}

variable "placement_group" {
  description = "Put the scale sets in a proximity placement group (same datacenter, lowest latency)."
  type        = bool
  default     = true
}

################################################################################
# Storage
################################################################################

variable "root_gb" {
  description = "Size of the Premium SSD OS disk, in GiB."
  type        = number
  default     = 200

  validation {
    condition     = var.root_gb >= 30 && var.root_gb <= 4095
    error_message = "The root_gb must be between 30 and 4095."
  }
}

variable "scratch_gb" {
  description = "Size of a managed data disk for scratch, in GiB; 0 adds none and leaves scratch to the VM size's local NVMe (ND v4/v5 carry several TB)."
  type        = number
  default     = 0

  validation {
    condition     = var.scratch_gb >= 0 && var.scratch_gb <= 65536
    error_message = "The scratch_gb must be between 0 and 65536."
  }
}

variable "scratch_iops" {
  description = "Provisioned IOPS of the scratch disk; setting it (or the throughput) makes the disk `PremiumV2_LRS`, otherwise it is `Premium_LRS`."
  type        = number
  default     = null
}

variable "scratch_throughput_mbps" {
  description = "Provisioned throughput of the scratch disk in MB/s (PremiumV2_LRS)."
  type        = number
  default     = null
}

variable "disk_encryption_set_id" {
  description = "Disk encryption set (customer-managed key) for the OS and data disks; null uses platform-managed keys (disks are encrypted either way)."
  type        = string
  default     = null
}

variable "schedules" {
  description = "Scheduled scaling (UTC) as autoscale profiles: from each weekly start (`days`, `hour`, `minute`) the pool runs `nodes` VMs until the next profile starts. Valid days are `Monday` to `Sunday`. gpuforge renders a start and an end profile per `cost.schedule` window."
  type = list(object({
    name   = string
    days   = list(string)
    hour   = number
    minute = number
    nodes  = number
  }))
  default = []

  validation {
    condition = alltrue([
      for action in var.schedules : action.nodes >= 0 && action.hour >= 0 && action.hour <= 23 && action.minute >= 0 && action.minute <= 59
    ])
    error_message = "Each schedule needs nodes of 0 or more, an hour of 0-23 and a minute of 0-59."
  }
}
