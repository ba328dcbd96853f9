locals {
  name = "${var.cluster_name}-${var.pool_name}"

  tags = merge(var.tags, {
    "gpuforge:cluster"   = var.cluster_name
    "gpuforge:pool"      = var.pool_name
    "gpuforge:gpu-model" = var.gpu_model
    "gpuforge:gpu-count" = tostring(var.gpu_count)
    "gpuforge:market"    = var.market
  })

  ##############################################################################
  # EFA
  ##############################################################################

  # EFA interfaces per instance type: one per network card that carries EFA traffic.
  efa_interface_counts = {
    "g5.48xlarge"      = 1
    "g6e.48xlarge"     = 4
    "p4d.24xlarge"     = 4
    "p4de.24xlarge"    = 4
    "p5.48xlarge"      = 32
    "p5e.48xlarge"     = 32
    "p5en.48xlarge"    = 16
    "p6-b200.48xlarge" = 8
  }

  # Instance types whose extra network cards can be `efa-only` (EFA with no IP stack, so no
  # private address is spent per card); the others get full `efa` interfaces on every card.
  efa_only_instance_types = ["p5.48xlarge", "p5e.48xlarge", "p5en.48xlarge", "p6-b200.48xlarge"]

  efa_count = var.efa_enabled ? lookup(local.efa_interface_counts, var.instance_type, 0) : 0

  # One interface per network card. Card 0 carries the primary (IP) interface at device
  # index 0; every further card gets an EFA interface at device index 1.
  network_interfaces = [
    for card in range(max(local.efa_count, 1)) : {
      network_card_index = card
      device_index       = card == 0 ? 0 : 1
      interface_type = (
        local.efa_count == 0 ? null :
        card > 0 && contains(local.efa_only_instance_types, var.instance_type) ? "efa-only" : "efa"
      )
    }
  ]

  ##############################################################################
  # Market
  ##############################################################################

  on_demand_base = {
    "on-demand"          = var.node_count
    "spot"               = 0
    "spot-with-fallback" = min(var.on_demand_base_capacity, var.node_count)
  }[var.market]

  on_demand_percentage_above_base = var.market == "on-demand" ? 100 : 0

  ##############################################################################
  # Storage
  ##############################################################################

  # gp3 tops out at 16000 IOPS and 1000 MB/s; beyond that the scratch volume is io2, whose
  # throughput follows its IOPS (256 KiB per I/O), so IOPS are raised to carry the throughput.
  scratch_needs_io2   = coalesce(var.scratch_iops, 3000) > 16000 || coalesce(var.scratch_throughput_mbps, 125) > 1000
  scratch_volume_type = local.scratch_needs_io2 ? "io2" : "gp3"
  scratch_iops = (
    local.scratch_needs_io2
    ? min(256000, max(coalesce(var.scratch_iops, 3000), coalesce(var.scratch_throughput_mbps, 125) * 4))
    : var.scratch_iops
  )
  scratch_throughput = local.scratch_needs_io2 ? null : var.scratch_throughput_mbps
}

################################################################################
# Image and key
################################################################################

data "aws_ami" "node" {
  most_recent = true
  owners      = var.ami_id == null ? ["099720109477"] : null

  filter {
    name   = var.ami_id == null ? "name" : "image-id"
    values = [coalesce(var.ami_id, var.ami_name_pattern)]
  }
}

resource "aws_key_pair" "this" {
  count = var.ssh_public_key == null ? 0 : 1

  key_name   = local.name
  public_key = var.ssh_public_key
  tags       = local.tags
}

################################################################################
# Placement group
################################################################################

resource "aws_placement_group" "this" {
  count = var.placement_group ? 1 : 0

  name     = local.name
  strategy = "cluster"
  tags     = local.tags
}

################################################################################
# Launch template
################################################################################

resource "aws_launch_template" "node" {
  name                   = local.name
  description            = "gpuforge ${var.cluster_name}/${var.pool_name}: ${var.gpu_count}x ${var.gpu_model}"
  image_id               = data.aws_ami.node.id
  key_name               = var.ssh_public_key == null ? var.key_name : aws_key_pair.this[0].key_name
  user_data              = var.user_data == null ? null : base64encode(var.user_data)
  ebs_optimized          = true
  update_default_version = true

  dynamic "iam_instance_profile" {
    for_each = var.iam_instance_profile_name == null ? [] : [var.iam_instance_profile_name]

    content {
      name = iam_instance_profile.value
    }
  }

  # IMDSv2 only, and a hop limit of 1 so that containers on the node cannot reach the
  # metadata service (and the instance role's credentials) through the host.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  monitoring {
    enabled = true
  }

  block_device_mappings {
    device_name = data.aws_ami.node.root_device_name

    ebs {
      volume_size           = var.root_gb
      volume_type           = "gp3"
      encrypted             = true
      kms_key_id            = var.kms_key_arn
      delete_on_termination = true
    }
  }

  dynamic "block_device_mappings" {
    for_each = var.scratch_gb > 0 ? [var.scratch_gb] : []

    content {
      device_name = "/dev/sdf"

      ebs {
        volume_size           = block_device_mappings.value
        volume_type           = local.scratch_volume_type
        iops                  = local.scratch_iops
        throughput            = local.scratch_throughput
        encrypted             = true
        kms_key_id            = var.kms_key_arn
        delete_on_termination = true
      }
    }
  }

  dynamic "network_interfaces" {
    for_each = local.network_interfaces

    content {
      network_card_index          = network_interfaces.value.network_card_index
      device_index                = network_interfaces.value.device_index
      interface_type              = network_interfaces.value.interface_type
      security_groups             = [aws_security_group.nodes.id]
      associate_public_ip_address = network_interfaces.value.network_card_index == 0 ? var.associate_public_ip : null
      delete_on_termination       = true
    }
  }

  dynamic "tag_specifications" {
    for_each = ["instance", "volume", "network-interface"]

    content {
      resource_type = tag_specifications.value
      tags          = merge(local.tags, { Name = local.name })
    }
  }

  tags = local.tags

  lifecycle {
    precondition {
      condition     = !(var.associate_public_ip && length(local.network_interfaces) > 1)
      error_message = "AWS assigns no public IPv4 address to an instance with several network interfaces: with EFA on ${var.instance_type}, leave associate_public_ip false and reach the nodes privately."
    }
  }
}

################################################################################
# Auto Scaling group
################################################################################

# One Auto Scaling group with a mixed instances policy serves all three markets: on-demand
# (all instances on-demand), spot (none) and spot-with-fallback (an on-demand base that
# survives any spot shortage, spot above it). Min, max and desired are all node_count.
resource "aws_autoscaling_group" "pool" {
  name                      = local.name
  min_size                  = var.node_count
  max_size                  = var.node_count
  desired_capacity          = var.node_count
  vpc_zone_identifier       = [local.subnet_id]
  placement_group           = var.placement_group ? aws_placement_group.this[0].id : null
  capacity_rebalance        = var.market != "on-demand"
  health_check_type         = "EC2"
  health_check_grace_period = 300
  wait_for_capacity_timeout = "30m"

  mixed_instances_policy {
    instances_distribution {
      on_demand_base_capacity                  = local.on_demand_base
      on_demand_percentage_above_base_capacity = local.on_demand_percentage_above_base
      spot_allocation_strategy                 = "price-capacity-optimized"
      spot_max_price                           = var.spot_max_price == null ? "" : var.spot_max_price
    }

    launch_template {
      launch_template_specification {
        launch_template_id = aws_launch_template.node.id
        version            = aws_launch_template.node.latest_version
      }

      dynamic "override" {
        for_each = distinct(concat([var.instance_type], var.spot_instance_types))

        content {
          instance_type = override.value
        }
      }
    }
  }

  dynamic "tag" {
    for_each = merge(local.tags, { Name = local.name })

    content {
      key                 = tag.key
      value               = tag.value
      propagate_at_launch = true
    }
  }
}

################################################################################
# Scheduled scaling
################################################################################

# The `cost.schedule` windows: each action sets the group's minimum, maximum and desired
# capacity at every firing of its weekly cron (UTC). The group itself keeps node_count, so an
# apply inside a window scales the pool back up until the window's next action.
resource "aws_autoscaling_schedule" "pool" {
  for_each = { for action in var.schedules : action.name => action }

  scheduled_action_name  = "${local.name}-${each.key}"
  autoscaling_group_name = aws_autoscaling_group.pool.name
  recurrence             = each.value.recurrence
  time_zone              = "Etc/UTC"
  min_size               = each.value.nodes
  max_size               = each.value.nodes
  desired_capacity       = each.value.nodes
}

################################################################################
# Nodes
################################################################################

# The instances of an Auto Scaling group are unknown until it has launched them, so the
# nodes output reads them back by their tags once the group is at capacity (the group waits
# for `desired_capacity` in-service instances before Terraform moves on).
data "aws_instances" "pool" {
  instance_tags = {
    "gpuforge:cluster" = var.cluster_name
    "gpuforge:pool"    = var.pool_name
  }
  instance_state_names = ["running"]

  depends_on = [aws_autoscaling_group.pool]
}
