locals {
  # Node names in index order (pool-0, pool-1, ..., pool-10), the order of the nodes output.
  node_names = [for index in range(var.node_count) : format("%s-%d", var.pool_name, index)]

  # One entry per node, keyed by name so that removing the last node of a pool does not
  # renumber (and so replace) the others.
  nodes = {
    for index, name in local.node_names : name => {
      address = cidrhost(var.subnet, var.first_host + index)
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
