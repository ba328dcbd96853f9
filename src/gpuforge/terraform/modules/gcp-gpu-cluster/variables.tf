################################################################################
# Cluster and pool
################################################################################

variable "cluster_name" {
  description = "Name of the cluster; prefixes every resource name and is set as the `gpuforge-cluster` label."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}[a-z0-9]$", var.cluster_name))
    error_message = "The cluster_name must be 2-32 characters of lowercase letters, digits and '-', starting with a letter and not ending with '-'."
  }
}

variable "pool_name" {
  description = "Name of the node pool this module call creates; set as the `gpuforge-pool` label."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,22}[a-z0-9]$", var.pool_name))
    error_message = "The pool_name must be 2-24 characters of lowercase letters, digits and '-', starting with a letter and not ending with '-'."
  }
}

variable "node_count" {
  description = "Number of instances in the pool; instance i is named `<cluster_name>-<pool_name>-<i>`."
  type        = number

  validation {
    condition     = var.node_count >= 0 && floor(var.node_count) == var.node_count
    error_message = "The node_count must be a whole number, 0 or more."
  }
}

variable "labels" {
  description = "Extra labels for every resource; gpuforge's own `gpuforge-*` labels are added on top."
  type        = map(string)
  default     = {}
}

variable "project" {
  description = "Project to create the resources in; null uses the provider's project."
  type        = string
  default     = null
}

variable "region" {
  description = "Region of the created subnetwork, router and placement policy, for example `us-central1`."
  type        = string
}

variable "zone" {
  description = "Zone of the instances, for example `us-central1-a` (GPU shapes are zonal)."
  type        = string
}

################################################################################
# Instances
################################################################################

variable "instance_type" {
  description = "Machine type, for example `a3-highgpu-8g`. A2, A3, A4 and G2 machine types carry their GPUs; N1 types get `gpu_count` accelerators of `gpu_model` attached."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*-[a-z0-9-]+$", var.instance_type))
    error_message = "The instance_type must be a Compute Engine machine type such as a3-highgpu-8g."
  }
}

variable "gpu_model" {
  description = "GPU model (for example `H100`, or `T4` on N1); set as the `gpuforge-gpu-model` label and reported in the nodes output."
  type        = string
}

variable "gpu_count" {
  description = "GPUs per instance; on N1 machine types this many accelerators are attached."
  type        = number

  validation {
    condition     = var.gpu_count >= 0 && floor(var.gpu_count) == var.gpu_count
    error_message = "The gpu_count must be a whole number, 0 or more."
  }
}

variable "image" {
  description = "Boot image, as `project/family` or a full image self link."
  type        = string
  default     = "ubuntu-os-cloud/ubuntu-2204-lts"
}

variable "boot_disk_type" {
  description = "Boot disk type. Valid values are `pd-balanced`, `pd-ssd` or `hyperdisk-balanced` (A3 Mega and newer shapes need hyperdisk)."
  type        = string
  default     = "pd-balanced"

  validation {
    condition     = contains(["pd-balanced", "pd-ssd", "hyperdisk-balanced"], var.boot_disk_type)
    error_message = "The boot_disk_type must be one of pd-balanced, pd-ssd or hyperdisk-balanced."
  }
}

variable "service_account_email" {
  description = "Service account the instances run as, with the `cloud-platform` scope; null runs them with no service account (the project's default one is never used)."
  type        = string
  default     = null
}

variable "secure_boot" {
  description = "Enable Shielded VM secure boot. Needs signed NVIDIA kernel modules (Ubuntu's prebuilt `linux-modules-nvidia-*`); DKMS-built modules do not load with it. vTPM and integrity monitoring are always on."
  type        = bool
  default     = false
}

################################################################################
# Market
################################################################################

variable "market" {
  description = "How the pool buys capacity. Valid values are `on-demand`, `spot` or `spot-with-fallback` (the first `on_demand_base_capacity` instances standard, the rest spot)."
  type        = string
  default     = "on-demand"

  validation {
    condition     = contains(["on-demand", "spot", "spot-with-fallback"], var.market)
    error_message = "The market must be one of on-demand, spot or spot-with-fallback."
  }
}

variable "on_demand_base_capacity" {
  description = "With `spot-with-fallback`: number of standard (non-spot) instances, the first ones by index."
  type        = number
  default     = 1

  validation {
    condition     = var.on_demand_base_capacity >= 0 && floor(var.on_demand_base_capacity) == var.on_demand_base_capacity
    error_message = "The on_demand_base_capacity must be a whole number, 0 or more."
  }
}

################################################################################
# Network
################################################################################

variable "subnetwork" {
  description = "Self link of an existing subnetwork for the nodes' first NIC. Null creates a VPC network and a subnetwork of `subnet_cidr` (with flow logs and Private Google Access)."
  type        = string
  default     = null
}

variable "subnet_cidr" {
  description = "CIDR block of the created subnetwork."
  type        = string
  default     = "10.43.0.0/20"

  validation {
    condition     = can(cidrhost(var.subnet_cidr, 0))
    error_message = "The subnet_cidr must be an IPv4 CIDR block such as 10.43.0.0/20."
  }
}

variable "create_nat" {
  description = "When the module creates the network: add a Cloud Router with Cloud NAT so that nodes without external addresses can reach package repositories."
  type        = bool
  default     = true
}

variable "gpu_nic_subnetworks" {
  description = "Self links of further subnetworks, one gVNIC each, for the GPU-to-GPU NICs of A3 shapes (a3-highgpu-8g uses 4, a3-megagpu-8g 8); empty for one NIC."
  type        = list(string)
  default     = []
}

variable "public_ip" {
  description = "Give each node an ephemeral external IPv4 address on its first NIC. Off by default: nodes are reached over private addressing."
  type        = bool
  default     = false
}

variable "ssh_cidrs" {
  description = "IPv4 CIDR blocks allowed to reach the nodes on TCP 22 (the Ansible controller, a bastion, IAP's 35.235.240.0/20). Open-to-the-world blocks are refused; an empty list opens SSH to nobody."
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

variable "ssh_user" {
  description = "User the `ssh_public_key` is installed for."
  type        = string
  default     = "gpuforge"
}

variable "ssh_public_key" {
  description = "OpenSSH public key installed for `ssh_user` through instance metadata (project-wide keys are blocked); null installs none."
  type        = string
  default     = null
}

variable "placement_group" {
  description = "Place the pool under a compact placement policy (instances on nearby hosts, for GPU-to-GPU traffic between nodes)."
  type        = bool
  default     = true
}

################################################################################
# Storage
################################################################################

variable "root_gb" {
  description = "Size of the boot disk, in GB."
  type        = number
  default     = 200

  validation {
    condition     = var.root_gb >= 10 && var.root_gb <= 65536
    error_message = "The root_gb must be between 10 and 65536."
  }
}

variable "scratch_gb" {
  description = "Size of a persistent scratch disk per instance, in GB; 0 adds none and leaves scratch to the local SSDs that A2 Ultra, A3 and G2 shapes carry."
  type        = number
  default     = 0

  validation {
    condition     = var.scratch_gb >= 0 && var.scratch_gb <= 65536
    error_message = "The scratch_gb must be between 0 and 65536."
  }
}

variable "scratch_iops" {
  description = "Provisioned IOPS of the scratch disk; setting it (or the throughput) makes the disk `hyperdisk-balanced`, otherwise it is `pd-ssd`."
  type        = number
  default     = null
}

variable "scratch_throughput_mbps" {
  description = "Provisioned throughput of the scratch disk in MB/s (hyperdisk-balanced)."
  type        = number
  default     = null
}

variable "kms_key_self_link" {
  description = "Cloud KMS key (CMEK) for the boot and scratch disks; null uses Google-managed encryption (disks are encrypted either way)."
  type        = string
  default     = null
}
