locals {
  create_network = var.subnet_id == null

  vnet_prefix = tonumber(split("/", var.vnet_cidr)[1])
  subnet_cidr = cidrsubnet(var.vnet_cidr, 20 - local.vnet_prefix, 0)
  subnet_id   = local.create_network ? azurerm_subnet.nodes[0].id : var.subnet_id
}

################################################################################
# Virtual network
################################################################################

resource "azurerm_virtual_network" "this" {
  count = local.create_network ? 1 : 0

  name                = local.name
  resource_group_name = var.resource_group_name
  location            = var.location
  address_space       = [var.vnet_cidr]
  tags                = local.tags
}

resource "azurerm_subnet" "nodes" {
  count = local.create_network ? 1 : 0

  name                 = "${local.name}-nodes"
  resource_group_name  = var.resource_group_name
  virtual_network_name = azurerm_virtual_network.this[0].name
  address_prefixes     = [local.subnet_cidr]
}

resource "azurerm_subnet_network_security_group_association" "nodes" {
  count = local.create_network ? 1 : 0

  subnet_id                 = azurerm_subnet.nodes[0].id
  network_security_group_id = azurerm_network_security_group.nodes.id
}

################################################################################
# Network security group
################################################################################

# Least privilege: SSH only from ssh_cidrs, everything between VMs of the virtual network
# (NCCL's TCP bootstrap; InfiniBand traffic does not pass through the NSG), outbound only
# HTTP/HTTPS to the internet and anything within the virtual network; the rest is denied.
resource "azurerm_network_security_group" "nodes" {
  name                = "${local.name}-nodes"
  resource_group_name = var.resource_group_name
  location            = var.location
  tags                = local.tags

  # Every inbound rule names its sources: an empty ssh_cidrs creates no SSH rule at all.
  dynamic "security_rule" {
    for_each = length(var.ssh_cidrs) > 0 ? [var.ssh_cidrs] : []

    content {
      name                       = "ssh-in"
      description                = "SSH from the allowed CIDR blocks"
      priority                   = 100
      direction                  = "Inbound"
      access                     = "Allow"
      protocol                   = "Tcp"
      source_port_range          = "*"
      destination_port_range     = "22"
      source_address_prefixes    = security_rule.value
      destination_address_prefix = "VirtualNetwork"
    }
  }

  security_rule {
    name                       = "intra-vnet-in"
    description                = "All traffic between VMs of the virtual network (NCCL)"
    priority                   = 110
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "*"
    source_port_range          = "*"
    destination_port_range     = "*"
    source_address_prefix      = "VirtualNetwork"
    destination_address_prefix = "VirtualNetwork"
  }

  security_rule {
    name                       = "deny-in"
    description                = "Nothing else inbound"
    priority                   = 4000
    direction                  = "Inbound"
    access                     = "Deny"
    protocol                   = "*"
    source_port_range          = "*"
    destination_port_range     = "*"
    source_address_prefix      = "*"
    destination_address_prefix = "*"
  }

  security_rule {
    name                       = "intra-vnet-out"
    description                = "All traffic between VMs of the virtual network (NCCL)"
    priority                   = 100
    direction                  = "Outbound"
    access                     = "Allow"
    protocol                   = "*"
    source_port_range          = "*"
    destination_port_range     = "*"
    source_address_prefix      = "VirtualNetwork"
    destination_address_prefix = "VirtualNetwork"
  }

  security_rule {
    name                       = "web-out"
    description                = "Package repositories over HTTP and HTTPS"
    priority                   = 110
    direction                  = "Outbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_ranges    = ["80", "443"]
    source_address_prefix      = "VirtualNetwork"
    destination_address_prefix = "Internet"
  }

  security_rule {
    name                       = "azure-platform-out"
    description                = "Azure platform services (VM agent, extensions)"
    priority                   = 120
    direction                  = "Outbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "443"
    source_address_prefix      = "VirtualNetwork"
    destination_address_prefix = "AzureCloud"
  }

  security_rule {
    name                       = "deny-out"
    description                = "Nothing else outbound"
    priority                   = 4000
    direction                  = "Outbound"
    access                     = "Deny"
    protocol                   = "*"
    source_port_range          = "*"
    destination_port_range     = "*"
    source_address_prefix      = "*"
    destination_address_prefix = "*"
  }
}
