provider "aws" {
  region = "us-east-1"
}

# Two on-demand g6e.48xlarge (8x L40S, 4 EFA interfaces) in an existing private subnet, with a
# 2 TiB gp3 scratch volume and a customer-managed key for both volumes.
module "inference" {
  source = "../.."

  cluster_name            = "example"
  pool_name               = "inference"
  node_count              = 2
  instance_type           = "g6e.48xlarge"
  gpu_model               = "L40S"
  gpu_count               = 8
  market                  = "on-demand"
  subnet_id               = var.subnet_id
  ssh_cidrs               = ["10.20.0.0/16"]
  key_name                = var.key_name
  scratch_gb              = 2048
  scratch_iops            = 12000
  scratch_throughput_mbps = 800
  kms_key_arn             = var.kms_key_arn
  placement_group         = false
}

variable "subnet_id" {
  description = "Existing private subnet for the nodes."
  type        = string
}

variable "key_name" {
  description = "Existing EC2 key pair."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for the volumes."
  type        = string
}
