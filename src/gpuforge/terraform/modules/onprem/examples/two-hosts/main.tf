# Two existing DGX-class machines in one rack, declared rather than provisioned.
module "onprem" {
  source = "../.."

  cluster_name = "lab"
  hosts = [
    {
      name          = "dgx-01"
      address       = "10.20.0.11"
      pool          = "training"
      gpu_model     = "H100"
      gpu_count     = 8
      instance_type = "dgx-h100"
      zone          = "rack-a"
    },
    {
      name          = "dgx-02"
      address       = "10.20.0.12"
      pool          = "training"
      gpu_model     = "H100"
      gpu_count     = 8
      instance_type = "dgx-h100"
      zone          = "rack-a"
    },
  ]
}
