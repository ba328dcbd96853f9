provider "azurerm" {
  features {}
}

# Four ND96isr_H100_v5 (8x H100, InfiniBand) as spot VMs that are deallocated on eviction.
module "training" {
  source = "../.."

  cluster_name         = "example"
  pool_name            = "training"
  resource_group_name  = var.resource_group_name
  location             = "eastus"
  node_count           = 4
  instance_type        = "Standard_ND96isr_H100_v5"
  gpu_model            = "H100"
  gpu_count            = 8
  market               = "spot"
  spot_eviction_policy = "Deallocate"
  ssh_cidrs            = ["10.0.0.0/8"]
  ssh_public_key       = var.ssh_public_key
  root_gb              = 256
  tags                 = { team = "ml-platform" }
}

variable "resource_group_name" {
  description = "Existing resource group."
  type        = string
}

variable "ssh_public_key" {
  description = "OpenSSH public key of the admin user."
  type        = string
}
