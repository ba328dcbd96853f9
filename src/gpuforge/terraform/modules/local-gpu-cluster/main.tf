locals {
  # Each node's index -> host number: the members gpuforge keeps, or 0 .. node_count - 1 from
  # first_host.
  members = var.members != null ? var.members : {
    for index in range(var.node_count) : tostring(index) => var.first_host + index
  }

  # Node names in index order (pool-0, pool-1, ..., pool-10), the order of the nodes output.
  node_names = [
    for key in sort([for index in keys(local.members) : format("%06d", tonumber(index))]) :
    format("%s-%d", var.pool_name, tonumber(key))
  ]

  # One entry per node, keyed by name so that removing any node of a pool does not renumber
  # (and so replace) the others.
  nodes = {
    for index, host in local.members : format("%s-%d", var.pool_name, tonumber(index)) => {
      address = cidrhost(var.subnet, host)
    }
  }
}

# Each node is a null_resource whose provisioners start and stop one simulated fleet node.
# Destroy-time provisioners may only read `self`, so everything the node-down command
# needs travels in `triggers`; a change to any trigger replaces (stops, then starts) the node,
# but for the command that runs gpuforge: how gpuforge is started (`gpuforge`, `python -m
# gpuforge`, another path to it) says nothing about the node, so a node keeps the command it
# was created with and a converged cluster plans no change whichever way gpuforge runs.
resource "null_resource" "node" {
  for_each = local.nodes

  lifecycle {
    ignore_changes = [triggers["gpuforge_bin"]]
  }

  triggers = {
    cluster         = var.cluster_name
    name            = each.key
    address         = each.value.address
    subnet          = var.subnet
    profile         = var.profile
    os              = var.os
    pool            = var.pool_name
    gpuforge_bin    = var.gpuforge_bin
    fleet_state_dir = var.fleet_state_dir
  }

  provisioner "local-exec" {
    command = "${self.triggers.gpuforge_bin} fleet node-up --cluster ${self.triggers.cluster} --name ${self.triggers.name} --address ${self.triggers.address} --subnet ${self.triggers.subnet} --profile ${self.triggers.profile} --pool ${self.triggers.pool} --os ${self.triggers.os} --state-dir '${self.triggers.fleet_state_dir}'"
  }

  provisioner "local-exec" {
    when    = destroy
    command = "${self.triggers.gpuforge_bin} fleet node-down --cluster ${self.triggers.cluster} --name ${self.triggers.name} --state-dir '${self.triggers.fleet_state_dir}'"
  }
}
