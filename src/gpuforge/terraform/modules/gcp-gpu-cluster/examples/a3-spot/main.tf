provider "google" {
  project = var.project
}

# Two spot a3-highgpu-8g (8x H100) in a new network with Cloud NAT and a compact placement.
module "training" {
  source = "../.."

  cluster_name   = "example"
  pool_name      = "training"
  node_count     = 2
  region         = "us-central1"
  zone           = "us-central1-a"
  instance_type  = "a3-highgpu-8g"
  gpu_model      = "H100"
  gpu_count      = 8
  market         = "spot"
  ssh_cidrs      = ["10.0.0.0/8", "35.235.240.0/20"]
  ssh_public_key = var.ssh_public_key
  root_gb        = 300
  labels         = { team = "ml-platform" }
}

variable "project" {
  description = "Google Cloud project."
  type        = string
}

variable "ssh_public_key" {
  description = "OpenSSH public key for the gpuforge user."
  type        = string
}
