provider "aws" {
  region = "us-west-2"
}

# Four p5.48xlarge (8x H100, 32 EFA interfaces each) in a new VPC: one on-demand instance that
# always stays, spot for the rest, local NVMe as scratch.
module "training" {
  source = "../.."

  cluster_name            = "example"
  pool_name               = "training"
  node_count              = 4
  instance_type           = "p5.48xlarge"
  gpu_model               = "H100"
  gpu_count               = 8
  market                  = "spot-with-fallback"
  on_demand_base_capacity = 1
  ssh_cidrs               = ["10.0.0.0/8"]
  ssh_public_key          = var.ssh_public_key
  root_gb                 = 500
  scratch_gb              = 0
  tags                    = { team = "ml-platform" }
}

variable "ssh_public_key" {
  description = "OpenSSH public key for the nodes' default user."
  type        = string
}
