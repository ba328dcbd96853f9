locals {
  create_network = var.subnet_id == null

  vpc_prefix       = tonumber(split("/", var.vpc_cidr)[1])
  node_subnet_cidr = cidrsubnet(var.vpc_cidr, 20 - local.vpc_prefix, 0)
  nat_subnet_cidr  = cidrsubnet(var.vpc_cidr, 28 - local.vpc_prefix, pow(2, 28 - local.vpc_prefix) - 1)

  # How nodes in a created network reach the internet: directly when they carry public
  # addresses, through the NAT gateway otherwise, or not at all.
  create_nat = local.create_network && var.create_nat_gateway && !var.associate_public_ip
  create_igw = local.create_network && (local.create_nat || var.associate_public_ip)

  availability_zone = local.create_network ? coalesce(var.availability_zone, try(data.aws_availability_zones.available[0].names[0], null)) : data.aws_subnet.existing[0].availability_zone

  subnet_id = local.create_network ? aws_subnet.nodes[0].id : var.subnet_id
  vpc_id    = local.create_network ? aws_vpc.this[0].id : data.aws_subnet.existing[0].vpc_id
}

data "aws_subnet" "existing" {
  count = local.create_network ? 0 : 1

  id = var.subnet_id
}

data "aws_availability_zones" "available" {
  count = local.create_network && var.availability_zone == null ? 1 : 0

  state = "available"
}

################################################################################
# VPC
################################################################################

resource "aws_vpc" "this" {
  #checkov:skip=CKV2_AWS_11: flow logs need a destination (bucket or log group, retention, key) that belongs to the account's logging set-up, not to a node pool; bring your own VPC (subnet_id) to have them
  count = local.create_network ? 1 : 0

  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = merge(local.tags, { Name = local.name })
}

# Take over the VPC's default security group and leave it without rules, so nothing that
# lands in it by accident can talk to anything.
resource "aws_default_security_group" "this" {
  count = local.create_network ? 1 : 0

  vpc_id = aws_vpc.this[0].id
  tags   = merge(local.tags, { Name = "${local.name}-default-deny" })
}

resource "aws_subnet" "nodes" {
  count = local.create_network ? 1 : 0

  vpc_id                  = aws_vpc.this[0].id
  cidr_block              = local.node_subnet_cidr
  availability_zone       = local.availability_zone
  map_public_ip_on_launch = false
  tags                    = merge(local.tags, { Name = "${local.name}-nodes" })
}

################################################################################
# Internet access
################################################################################

resource "aws_internet_gateway" "this" {
  count = local.create_igw ? 1 : 0

  vpc_id = aws_vpc.this[0].id
  tags   = merge(local.tags, { Name = local.name })
}

resource "aws_subnet" "nat" {
  count = local.create_nat ? 1 : 0

  vpc_id                  = aws_vpc.this[0].id
  cidr_block              = local.nat_subnet_cidr
  availability_zone       = local.availability_zone
  map_public_ip_on_launch = false
  tags                    = merge(local.tags, { Name = "${local.name}-nat" })
}

resource "aws_eip" "nat" {
  count = local.create_nat ? 1 : 0

  domain = "vpc"
  tags   = merge(local.tags, { Name = "${local.name}-nat" })
}

resource "aws_nat_gateway" "this" {
  count = local.create_nat ? 1 : 0

  allocation_id = aws_eip.nat[0].id
  subnet_id     = aws_subnet.nat[0].id
  tags          = merge(local.tags, { Name = local.name })

  depends_on = [aws_internet_gateway.this]
}

resource "aws_route_table" "nat" {
  count = local.create_nat ? 1 : 0

  vpc_id = aws_vpc.this[0].id
  tags   = merge(local.tags, { Name = "${local.name}-nat" })

  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.this[0].id
  }
}

resource "aws_route_table_association" "nat" {
  count = local.create_nat ? 1 : 0

  subnet_id      = aws_subnet.nat[0].id
  route_table_id = aws_route_table.nat[0].id
}

resource "aws_route_table" "nodes" {
  count = local.create_network ? 1 : 0

  vpc_id = aws_vpc.this[0].id
  tags   = merge(local.tags, { Name = "${local.name}-nodes" })
}

resource "aws_route" "nodes_internet" {
  count = local.create_nat || (local.create_network && var.associate_public_ip) ? 1 : 0

  route_table_id         = aws_route_table.nodes[0].id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = local.create_nat ? aws_nat_gateway.this[0].id : null
  gateway_id             = local.create_nat ? null : aws_internet_gateway.this[0].id
}

resource "aws_route_table_association" "nodes" {
  count = local.create_network ? 1 : 0

  subnet_id      = aws_subnet.nodes[0].id
  route_table_id = aws_route_table.nodes[0].id
}
