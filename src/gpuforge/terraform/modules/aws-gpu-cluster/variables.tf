################################################################################
# Cluster and pool
################################################################################

variable "cluster_name" {
  description = "Name of the cluster; prefixes every resource name and is tagged as `gpuforge:cluster`."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}[a-z0-9]$", var.cluster_name))
    error_message = "The cluster_name must be 2-32 characters of lowercase letters, digits and '-', starting with a letter and not ending with '-'."
  }
}

variable "pool_name" {
  description = "Name of the node pool this module call creates; tagged as `gpuforge:pool`."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,22}[a-z0-9]$", var.pool_name))
    error_message = "The pool_name must be 2-24 characters of lowercase letters, digits and '-', starting with a letter and not ending with '-'."
  }
}

variable "node_count" {
  description = "Number of instances in the pool (the Auto Scaling group's min, max and desired size)."
  type        = number

  validation {
    condition     = var.node_count >= 0 && floor(var.node_count) == var.node_count
    error_message = "The node_count must be a whole number, 0 or more."
  }
}

variable "tags" {
  description = "Extra tags for every resource; gpuforge's own `gpuforge:*` tags are added on top."
  type        = map(string)
  default     = {}
}

################################################################################
# Instances
################################################################################

variable "instance_type" {
  description = "EC2 instance type of the pool, for example `p5.48xlarge`."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.instance_type))
    error_message = "The instance_type must look like family.size, for example p5.48xlarge."
  }
}

variable "gpu_model" {
  description = "GPU model of the instance type (for example `H100`); tagged as `gpuforge:gpu-model` and reported in the nodes output."
  type        = string
}

variable "gpu_count" {
  description = "GPUs per instance; tagged as `gpuforge:gpu-count` and reported in the nodes output."
  type        = number

  validation {
    condition     = var.gpu_count >= 0 && floor(var.gpu_count) == var.gpu_count
    error_message = "The gpu_count must be a whole number, 0 or more."
  }
}

variable "ami_id" {
  description = "AMI of the nodes. Null looks up the newest Canonical Ubuntu image matching `ami_name_pattern`."
  type        = string
  default     = null
}

variable "ami_name_pattern" {
  description = "Name pattern of the Canonical AMI looked up when `ami_id` is null."
  type        = string
  default     = "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*"
}

variable "iam_instance_profile_name" {
  description = "Name of an existing IAM instance profile for the nodes (for example one that allows SSM); null attaches none."
  type        = string
  default     = null
}

variable "user_data" {
  description = "Cloud-init user data for the nodes, in plain text (the module base64-encodes it); null for none. Never put secrets here: user data is readable from the instance metadata."
  type        = string
  default     = null
}

################################################################################
# Market
################################################################################

variable "market" {
  description = "How the pool buys capacity. Valid values are `on-demand`, `spot` or `spot-with-fallback` (an on-demand base of `on_demand_base_capacity` instances, spot above it)."
  type        = string
  default     = "on-demand"

  validation {
    condition     = contains(["on-demand", "spot", "spot-with-fallback"], var.market)
    error_message = "The market must be one of on-demand, spot or spot-with-fallback."
  }
}

variable "on_demand_base_capacity" {
  description = "With `spot-with-fallback`: number of on-demand instances that are always kept, whatever spot capacity does."
  type        = number
  default     = 1

  validation {
    condition     = var.on_demand_base_capacity >= 0 && floor(var.on_demand_base_capacity) == var.on_demand_base_capacity
    error_message = "The on_demand_base_capacity must be a whole number, 0 or more."
  }
}

variable "spot_max_price" {
  description = "Highest hourly price, in USD as a string, paid for a spot instance; null caps it at the on-demand price."
  type        = string
  default     = null

  validation {
    condition     = var.spot_max_price == null || can(tonumber(var.spot_max_price))
    error_message = "The spot_max_price must be null or a number written as a string, for example \"40.5\"."
  }
}

variable "spot_instance_types" {
  description = "Further instance types (same GPU model and count) the Auto Scaling group may launch for spot capacity, to widen the spot pools it draws from."
  type        = list(string)
  default     = []
}

################################################################################
# Network
################################################################################

variable "subnet_id" {
  description = "Existing subnet for the nodes. Null creates a VPC (`vpc_cidr`) with a private node subnet and, when `create_nat_gateway`, a public subnet holding a NAT gateway for outbound package downloads."
  type        = string
  default     = null
}

variable "availability_zone" {
  description = "Availability zone of the created subnets; null takes the region's first zone. Ignored with `subnet_id` (the subnet's zone is used)."
  type        = string
  default     = null
}

variable "vpc_cidr" {
  description = "CIDR block of the created VPC; the node subnet is its first /20, the NAT subnet the last /28."
  type        = string
  default     = "10.42.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) <= 20
    error_message = "The vpc_cidr must be an IPv4 CIDR block of /20 or larger, such as 10.42.0.0/16."
  }
}

variable "create_nat_gateway" {
  description = "When the module creates the network: add a NAT gateway so that nodes without public addresses can reach package repositories."
  type        = bool
  default     = true
}

variable "associate_public_ip" {
  description = "Give each node a public IPv4 address. Off by default: nodes are reached over private addressing. AWS does not assign public addresses to instances with several network interfaces (EFA instances)."
  type        = bool
  default     = false
}

variable "ssh_cidrs" {
  description = "IPv4 CIDR blocks allowed to reach the nodes on TCP 22 (the Ansible controller, a bastion, a VPN). Open-to-the-world blocks are refused."
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
  description = "OpenSSH public key installed for the image's default user; null uses `key_name` or no key."
  type        = string
  default     = null
}

variable "key_name" {
  description = "Name of an existing EC2 key pair; used when `ssh_public_key` is null."
  type        = string
  default     = null
}

variable "efa_enabled" {
  description = "Attach the instance type's full set of EFA interfaces (looked up in the module); instance types without EFA get one ordinary interface."
  type        = bool
  default     = true
}

variable "placement_group" {
  description = "Launch the pool into a `cluster` placement group (lowest latency between nodes, needed for full EFA bandwidth)."
  type        = bool
  default     = true
}

################################################################################
# Storage
################################################################################

variable "root_gb" {
  description = "Size of the encrypted gp3 root volume, in GiB."
  type        = number
  default     = 200

  validation {
    condition     = var.root_gb >= 8 && var.root_gb <= 16384
    error_message = "The root_gb must be between 8 and 16384."
  }
}

variable "scratch_gb" {
  description = "Size of an encrypted EBS scratch volume, in GiB; 0 adds none and leaves scratch to the instance's local NVMe drives (p4d/p5/p6 carry 8 of them)."
  type        = number
  default     = 0

  validation {
    condition     = var.scratch_gb >= 0 && var.scratch_gb <= 65536
    error_message = "The scratch_gb must be between 0 and 65536."
  }
}

variable "scratch_iops" {
  description = "Provisioned IOPS of the scratch volume; null takes the volume type's baseline. Above 16000 (or with throughput above 1000 MB/s) the volume becomes io2, which has no throughput setting."
  type        = number
  default     = null

  validation {
    condition     = var.scratch_iops == null || (coalesce(var.scratch_iops, 3000) >= 3000 && coalesce(var.scratch_iops, 3000) <= 256000)
    error_message = "The scratch_iops must be null or between 3000 and 256000."
  }
}

variable "scratch_throughput_mbps" {
  description = "Throughput of a gp3 scratch volume in MB/s; null takes the gp3 baseline (125)."
  type        = number
  default     = null

  validation {
    condition     = var.scratch_throughput_mbps == null || coalesce(var.scratch_throughput_mbps, 125) >= 125
    error_message = "The scratch_throughput_mbps must be null or 125 or more."
  }
}

variable "kms_key_arn" {
  description = "ARN of a customer-managed KMS key for the root and scratch volumes; null uses the account's default EBS key (volumes are encrypted either way)."
  type        = string
  default     = null
}

variable "schedules" {
  description = "Scheduled scaling (UTC): at every firing of `recurrence` (a weekly cron, MIN HOUR * * DOW) the Auto Scaling group's minimum, maximum and desired capacity become `nodes`. gpuforge renders a start and an end action per `cost.schedule` window."
  type = list(object({
    name       = string
    recurrence = string
    nodes      = number
  }))
  default = []

  validation {
    condition     = alltrue([for action in var.schedules : action.nodes >= 0 && floor(action.nodes) == action.nodes])
    error_message = "Each schedule's nodes must be a whole number, 0 or more."
  }
}
