################################################################################
# Cluster and pool
################################################################################

variable "cluster_name" {
  description = "Name of the cluster; prefixes every VM name and is recorded in each VM's annotation."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}[a-z0-9]$", var.cluster_name))
    error_message = "The cluster_name must be 2-32 characters of lowercase letters, digits and '-', starting with a letter and not ending with '-'."
  }
}

variable "pool_name" {
  description = "Name of the node pool this module call creates; VM i is named `<cluster_name>-<pool_name>-<i>`."
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
  description = "IDs of existing vSphere tags to attach to every VM (vSphere tags are objects, not key/value pairs)."
  type        = list(string)
  default     = []
}

################################################################################
# vSphere inventory
################################################################################

variable "datacenter" {
  description = "Name of the vSphere datacenter."
  type        = string
}

variable "compute_cluster" {
  description = "Name of the vSphere compute cluster whose resource pool receives the VMs."
  type        = string
}

variable "datastore" {
  description = "Name of the datastore for the VMs' disks."
  type        = string
}

variable "network" {
  description = "Name of the port group the VMs attach to."
  type        = string
}

variable "template" {
  description = "Name of the VM template to clone (Linux with VMware Tools and cloud-init, EFI firmware)."
  type        = string
}

variable "folder" {
  description = "VM folder, relative to the datacenter; null for the datacenter's root VM folder."
  type        = string
  default     = null
}

variable "storage_policy_id" {
  description = "Storage policy for the VMs' disks, for example a VM Encryption policy; null uses the datastore's default."
  type        = string
  default     = null
}

################################################################################
# Instances and GPUs
################################################################################

variable "instance_type" {
  description = "A label for the VM shape, recorded in the nodes output (vSphere has no instance types); null when unused."
  type        = string
  default     = null
}

variable "num_cpus" {
  description = "Virtual CPUs per VM."
  type        = number
  default     = 32
}

variable "memory_mb" {
  description = "Memory per VM, in MiB; with GPUs it is fully reserved and locked (passthrough and vGPU both require it)."
  type        = number
  default     = 262144
}

variable "gpu_model" {
  description = "GPU model passed through or virtualised (for example `A100`); reported in the nodes output."
  type        = string
}

variable "gpu_count" {
  description = "GPUs per VM (passthrough devices, or 1 for a vGPU profile)."
  type        = number

  validation {
    condition     = var.gpu_count >= 0 && floor(var.gpu_count) == var.gpu_count
    error_message = "The gpu_count must be a whole number, 0 or more."
  }
}

variable "pci_device_ids" {
  description = "PCI passthrough: for each VM, in index order, the host PCI device IDs of its GPUs (as found with the `vsphere_host_pci_device` data source). Empty for vGPU or no GPU."
  type        = list(list(string))
  default     = []
}

variable "host_system_ids" {
  description = "PCI passthrough: for each VM, in index order, the ID of the ESXi host that holds its devices (passthrough pins a VM to its host). Empty to let DRS place the VMs."
  type        = list(string)
  default     = []
}

variable "vgpu_profile" {
  description = "NVIDIA vGPU profile the template VM carries, for example `grid_a100-40c` (clones inherit its vGPU device: the vsphere provider has no argument that adds one); reserves the VMs' memory. null for passthrough or no GPU."
  type        = string
  default     = null
}

################################################################################
# Network and access
################################################################################

variable "ipv4_cidr" {
  description = "IPv4 network the VMs' static addresses are taken from, for example `10.50.0.0/24`."
  type        = string

  validation {
    condition     = can(cidrhost(var.ipv4_cidr, 0))
    error_message = "The ipv4_cidr must be an IPv4 CIDR block such as 10.50.0.0/24."
  }
}

variable "first_host" {
  description = "Host number, within `ipv4_cidr`, of the first VM; VM i gets `cidrhost(ipv4_cidr, first_host + i)`."
  type        = number
  default     = 10
}

variable "ipv4_gateway" {
  description = "Default gateway of the VMs."
  type        = string
}

variable "dns_servers" {
  description = "DNS servers of the VMs."
  type        = list(string)
  default     = []
}

variable "domain" {
  description = "DNS domain of the VMs."
  type        = string
  default     = "cluster.local"
}

variable "ssh_user" {
  description = "User that cloud-init creates with `ssh_public_key`."
  type        = string
  default     = "gpuforge"
}

variable "ssh_public_key" {
  description = "OpenSSH public key installed for `ssh_user` through cloud-init's VMware guestinfo data source; null installs none."
  type        = string
  default     = null
}

variable "ssh_cidrs" {
  description = "IPv4 CIDR blocks allowed to reach the VMs on TCP 22. vSphere port groups have no firewall: the list is written to cloud-init, which allows SSH only from them with the guest firewall (ufw)."
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

variable "placement_group" {
  description = "Keep the VMs together with a DRS VM-to-VM affinity rule (vSphere's counterpart of a placement group)."
  type        = bool
  default     = false
}

variable "market" {
  description = "Market reported in the nodes output; owned hardware has only `on-demand`."
  type        = string
  default     = "on-demand"

  validation {
    condition     = var.market == "on-demand"
    error_message = "vSphere capacity is owned: the market can only be on-demand."
  }
}

################################################################################
# Storage
################################################################################

variable "root_gb" {
  description = "Size of the OS disk, in GiB (at least the template's disk size)."
  type        = number
  default     = 200
}

variable "scratch_gb" {
  description = "Size of a second, thick-provisioned scratch disk, in GiB; 0 adds none."
  type        = number
  default     = 0

  validation {
    condition     = var.scratch_gb >= 0
    error_message = "The scratch_gb must be 0 or more."
  }
}

variable "scratch_iops" {
  description = "IOPS limit of the scratch disk (a Storage I/O Control limit, not a reservation); null for none."
  type        = number
  default     = null
}
