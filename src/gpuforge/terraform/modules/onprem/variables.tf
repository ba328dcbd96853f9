################################################################################
# Cluster
################################################################################

variable "cluster_name" {
  description = "Name of the cluster the hosts belong to."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}[a-z0-9]$", var.cluster_name))
    error_message = "The cluster_name must be 2-32 characters of lowercase letters, digits and '-', starting with a letter and not ending with '-'."
  }
}

################################################################################
# Hosts
################################################################################

variable "hosts" {
  description = "Existing machines, one object per host: `name`, `address` (IPv4, IPv6 or DNS name the controller reaches over SSH), `pool`, `gpu_model`, `gpu_count`, `instance_type` (a hardware label, or null) and `zone` (rack or site, or null). Every attribute must be given (use null where unknown): the module supports Terraform 1.0, which has no optional object attributes."
  type = list(object({
    name          = string
    address       = string
    pool          = string
    gpu_model     = string
    gpu_count     = number
    instance_type = string
    zone          = string
  }))

  validation {
    condition     = length(distinct([for host in var.hosts : host.name])) == length(var.hosts)
    error_message = "Every host needs a distinct name."
  }

  validation {
    condition     = length(distinct([for host in var.hosts : host.address])) == length(var.hosts)
    error_message = "Every host needs a distinct address."
  }

  validation {
    condition     = alltrue([for host in var.hosts : can(regex("^[A-Za-z0-9][A-Za-z0-9._-]*$", host.name))])
    error_message = "Host names may only contain letters, digits, '.', '_' and '-' and must start with a letter or digit."
  }

  validation {
    condition     = alltrue([for host in var.hosts : can(cidrhost("${host.address}/32", 0)) || can(cidrhost("${host.address}/128", 0)) || can(regex("^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\\.?$", host.address))])
    error_message = "Every host address must be an IPv4 or IPv6 address or a DNS host name."
  }

  validation {
    condition     = alltrue([for host in var.hosts : host.gpu_count >= 0 && floor(host.gpu_count) == host.gpu_count])
    error_message = "Every host's gpu_count must be a whole number, 0 or more."
  }
}

variable "market" {
  description = "Market reported for every host. Owned hardware has none, so the default is null; set `on-demand` if a consumer needs a value."
  type        = string
  default     = null

  validation {
    condition     = var.market == null ? true : contains(["on-demand", "spot", "spot-with-fallback"], var.market)
    error_message = "The market must be null or one of on-demand, spot or spot-with-fallback."
  }
}
