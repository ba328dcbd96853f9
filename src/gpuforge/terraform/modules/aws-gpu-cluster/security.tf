################################################################################
# Security group
################################################################################

# Least privilege: SSH only from ssh_cidrs; every protocol between members of the group
# (NCCL over TCP and EFA's SRD both need it, EFA requires the group to reference itself);
# outbound only HTTP/HTTPS for package repositories. DNS and NTP go to the VPC resolver and
# the Amazon Time Sync service, which security groups do not filter.
resource "aws_security_group" "nodes" {
  name        = "${local.name}-nodes"
  description = "gpuforge ${var.cluster_name}/${var.pool_name}: SSH from allowed CIDRs, all traffic within the pool"
  vpc_id      = local.vpc_id
  tags        = merge(local.tags, { Name = "${local.name}-nodes" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "ssh" {
  for_each = toset(var.ssh_cidrs)

  security_group_id = aws_security_group.nodes.id
  description       = "SSH from ${each.value}"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  tags              = local.tags
}

resource "aws_vpc_security_group_ingress_rule" "intra_pool" {
  security_group_id            = aws_security_group.nodes.id
  description                  = "All traffic from members of this group (NCCL, EFA)"
  referenced_security_group_id = aws_security_group.nodes.id
  ip_protocol                  = "-1"
  tags                         = local.tags
}

resource "aws_vpc_security_group_egress_rule" "intra_pool" {
  security_group_id            = aws_security_group.nodes.id
  description                  = "All traffic to members of this group (NCCL, EFA)"
  referenced_security_group_id = aws_security_group.nodes.id
  ip_protocol                  = "-1"
  tags                         = local.tags
}

resource "aws_vpc_security_group_egress_rule" "web" {
  for_each = toset(["80", "443"])

  security_group_id = aws_security_group.nodes.id
  description       = "Package repositories over TCP ${each.value}"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = tonumber(each.value)
  to_port           = tonumber(each.value)
  tags              = local.tags
}
