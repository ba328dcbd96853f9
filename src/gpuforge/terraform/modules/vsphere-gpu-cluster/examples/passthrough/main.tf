provider "vsphere" {
  vsphere_server = var.vsphere_server
}

# Two VMs, each with two A100s passed through from its own ESXi host.
module "training" {
  source = "../.."

  cluster_name    = "example"
  pool_name       = "training"
  node_count      = 2
  datacenter      = "dc1"
  compute_cluster = "gpu-cluster"
  datastore       = "nvme-ds"
  network         = "vlan-50"
  template        = "ubuntu-2204-efi"
  num_cpus        = 48
  memory_mb       = 393216
  gpu_model       = "A100"
  gpu_count       = 2
  pci_device_ids  = var.pci_device_ids
  host_system_ids = var.host_system_ids
  ipv4_cidr       = "10.50.0.0/24"
  ipv4_gateway    = "10.50.0.1"
  dns_servers     = ["10.50.0.2"]
  ssh_cidrs       = ["10.0.0.0/8"]
  ssh_public_key  = var.ssh_public_key
  scratch_gb      = 1024
}

variable "vsphere_server" {
  description = "vCenter address (credentials come from VSPHERE_USER / VSPHERE_PASSWORD)."
  type        = string
}

variable "pci_device_ids" {
  description = "Per VM, the PCI device IDs of its two GPUs."
  type        = list(list(string))
}

variable "host_system_ids" {
  description = "Per VM, the ESXi host that holds its GPUs."
  type        = list(string)
}

variable "ssh_public_key" {
  description = "OpenSSH public key for the gpuforge user."
  type        = string
}
