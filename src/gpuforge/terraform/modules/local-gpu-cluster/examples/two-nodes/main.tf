# Two simulated H100 nodes of the pool "train" in the fleet subnet 10.87.0.0/24.
module "train" {
  source = "../.."

  cluster_name    = "demo"
  pool_name       = "train"
  node_count      = 2
  profile         = "hgx-h100-8"
  gpu_model       = "H100"
  gpu_count       = 8
  subnet          = "10.87.0.0/24"
  first_host      = 10
  gpuforge_bin    = var.gpuforge_bin
  fleet_state_dir = var.fleet_state_dir
}

variable "gpuforge_bin" {
  description = "Command that runs gpuforge."
  type        = string
  default     = "gpuforge"
}

variable "fleet_state_dir" {
  description = "Directory where the fleet records its nodes."
  type        = string
  default     = "/var/lib/gpuforge/fleet"
}
