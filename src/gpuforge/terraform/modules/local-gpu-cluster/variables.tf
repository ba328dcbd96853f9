################################################################################
# Cluster and pool
################################################################################

variable "cluster_name" {
  description = "Name of the cluster; fleet nodes are grouped under it in the fleet state directory."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}[a-z0-9]$", var.cluster_name))
    error_message = "The cluster_name must be 2-32 characters of lowercase letters, digits and '-', starting with a letter and not ending with '-'."
  }
}

variable "pool_name" {
  description = "Name of the node pool; node names are `<pool_name>-<index>`."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,22}[a-z0-9]$", var.pool_name))
    error_message = "The pool_name must be 2-24 characters of lowercase letters, digits and '-', starting with a letter and not ending with '-'."
  }
}

variable "node_count" {
  description = "Number of simulated nodes in the pool."
  type        = number

  validation {
    condition     = var.node_count >= 0 && var.node_count <= 250 && floor(var.node_count) == var.node_count
    error_message = "The node_count must be a whole number between 0 and 250."
  }
}

variable "market" {
  description = "Purchase market recorded on every node (the fleet itself has no market). Valid values are `on-demand`, `spot` or `spot-with-fallback`."
  type        = string
  default     = "on-demand"

  validation {
    condition     = contains(["on-demand", "spot", "spot-with-fallback"], var.market)
    error_message = "The market must be one of on-demand, spot or spot-with-fallback."
  }
}

################################################################################
# Simulated hardware
################################################################################

variable "profile" {
  description = "Fleet hardware profile of every node (for example `hgx-h100-8`); reported as the node's instance_type."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]*$", var.profile))
    error_message = "The profile must be lowercase letters, digits, '.' and '-' (for example hgx-h100-8)."
  }
}

variable "os" {
  description = "Distribution the nodes present (`debian-12`, `ubuntu-22.04`, `ubuntu-24.04`): its os-release over the host's Debian userland."
  type        = string
  default     = "debian-12"

  validation {
    condition     = contains(["debian-12", "ubuntu-22.04", "ubuntu-24.04"], var.os)
    error_message = "The local fleet presents debian-12, ubuntu-22.04 or ubuntu-24.04."
  }
}

variable "gpu_model" {
  description = "GPU model the profile simulates (for example `H100`); reported in the nodes output."
  type        = string
}

variable "gpu_count" {
  description = "Number of GPUs per node the profile simulates; reported in the nodes output."
  type        = number

  validation {
    condition     = var.gpu_count >= 0 && floor(var.gpu_count) == var.gpu_count
    error_message = "The gpu_count must be a whole number, 0 or more."
  }
}

################################################################################
# Network
################################################################################

variable "subnet" {
  description = "The fleet's private IPv4 subnet (CIDR, for example `10.87.0.0/24`); node addresses are taken from it."
  type        = string

  validation {
    condition     = can(cidrhost(var.subnet, 0)) && can(regex("^[0-9.]+/[0-9]+$", var.subnet))
    error_message = "The subnet must be an IPv4 CIDR block such as 10.87.0.0/24."
  }
}

variable "members" {
  description = "The pool's nodes as a map of node index (a string such as \"3\") to its host number within `subnet`: node `<pool_name>-<index>` gets `cidrhost(subnet, host)`. gpuforge keeps them from run to run, so removing any node, or resizing another pool, never renumbers or moves a node. When set, node_count and first_host are not used; when null, nodes 0 to node_count - 1 get `first_host + index`."
  type        = map(number)
  default     = null

  validation {
    condition = var.members == null || try(alltrue([
      for index, host in var.members :
      can(regex("^(0|[1-9][0-9]{0,5})$", index)) && host >= 2 && host <= 254 && floor(host) == host
    ]) && length(distinct(values(var.members))) == length(var.members), false)
    error_message = "The members must map whole-number indexes to distinct whole host numbers between 2 and 254 (.0 is the network, .1 the bridge, .255 the broadcast address)."
  }
}

variable "first_host" {
  description = "Host number, within `subnet`, of the pool's first node; node i gets `cidrhost(subnet, first_host + i)`. Keep pools of one cluster on disjoint ranges."
  type        = number
  default     = 10

  validation {
    condition     = var.first_host >= 2 && floor(var.first_host) == var.first_host
    error_message = "The first_host must be a whole number of 2 or more (.0 is the network, .1 the bridge)."
  }
}

################################################################################
# gpuforge
################################################################################

variable "gpuforge_bin" {
  description = "Command that runs gpuforge (an absolute path, or `python -m gpuforge`); the provisioners call `<gpuforge_bin> fleet node-up|node-down`."
  type        = string
  default     = "gpuforge"

  validation {
    condition     = can(regex("^[A-Za-z0-9_./ -]+$", var.gpuforge_bin))
    error_message = "The gpuforge_bin may only contain letters, digits, spaces and _ . / - (it is run by a shell)."
  }
}

variable "fleet_state_dir" {
  description = "Directory where the fleet records its nodes (shared by node-up, node-down and `gpuforge fleet status`)."
  type        = string

  validation {
    condition     = can(regex("^[^'\n]+$", var.fleet_state_dir))
    error_message = "The fleet_state_dir must not be empty and must not contain a single quote or a newline."
  }
}
