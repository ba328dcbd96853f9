locals {
  # The declared hosts in the order given, in the nodes contract every cluster module shares.
  nodes = [
    for host in var.hosts : {
      name          = host.name
      private_ip    = host.address
      pool          = host.pool
      gpu_model     = host.gpu_model
      gpu_count     = host.gpu_count
      instance_type = host.instance_type
      market        = var.market
      zone          = host.zone
    }
  ]

  pools = distinct([for host in var.hosts : host.pool])
}
