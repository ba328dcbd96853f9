locals {
  create_network = var.subnetwork == null

  subnetwork  = local.create_network ? google_compute_subnetwork.nodes[0].self_link : var.subnetwork
  network     = local.create_network ? google_compute_network.this[0].self_link : data.google_compute_subnetwork.existing[0].network
  subnet_cidr = local.create_network ? var.subnet_cidr : data.google_compute_subnetwork.existing[0].ip_cidr_range
}

data "google_compute_subnetwork" "existing" {
  count = local.create_network ? 0 : 1

  self_link = var.subnetwork
}

################################################################################
# VPC network
################################################################################

resource "google_compute_network" "this" {
  #checkov:skip=CKV2_GCP_18: the firewall rules below are attached to this network through local.network (created or existing), a reference checkov's graph does not follow
  count = local.create_network ? 1 : 0

  name                    = local.name
  project                 = var.project
  auto_create_subnetworks = false
  mtu                     = 8896
}

resource "google_compute_subnetwork" "nodes" {
  count = local.create_network ? 1 : 0

  name                     = "${local.name}-nodes"
  project                  = var.project
  region                   = var.region
  network                  = google_compute_network.this[0].id
  ip_cidr_range            = var.subnet_cidr
  private_ip_google_access = true

  log_config {
    aggregation_interval = "INTERVAL_5_MIN"
    flow_sampling        = 0.5
    metadata             = "INCLUDE_ALL_METADATA"
  }
}

resource "google_compute_router" "this" {
  count = local.create_network && var.create_nat ? 1 : 0

  name    = local.name
  project = var.project
  region  = var.region
  network = google_compute_network.this[0].id
}

resource "google_compute_router_nat" "this" {
  count = local.create_network && var.create_nat ? 1 : 0

  name                               = local.name
  project                            = var.project
  region                             = var.region
  router                             = google_compute_router.this[0].name
  nat_ip_allocate_option             = "AUTO_ONLY"
  source_subnetwork_ip_ranges_to_nat = "ALL_SUBNETWORKS_ALL_IP_RANGES"

  log_config {
    enable = true
    filter = "ERRORS_ONLY"
  }
}

################################################################################
# Firewall
################################################################################

# Least privilege for the instances tagged with the pool's tag: SSH only from ssh_cidrs,
# every protocol between the pool's own instances (NCCL), outbound only to the subnet and
# to HTTP/HTTPS; everything else outbound is denied. The metadata server and Google's DNS
# resolver are not subject to VPC firewall rules. Every ingress rule names its sources: the
# Google provider reads an ingress rule without sources as 0.0.0.0/0, so an empty ssh_cidrs
# creates no SSH rule at all.
resource "google_compute_firewall" "ssh" {
  count = length(var.ssh_cidrs) > 0 ? 1 : 0

  name          = "${local.name}-ssh"
  project       = var.project
  network       = local.network
  direction     = "INGRESS"
  source_ranges = var.ssh_cidrs
  target_tags   = [local.tag]

  allow {
    protocol = "tcp"
    ports    = ["22"]
  }
}

resource "google_compute_firewall" "intra_pool_ingress" {
  name        = "${local.name}-intra-in"
  project     = var.project
  network     = local.network
  direction   = "INGRESS"
  source_tags = [local.tag]
  target_tags = [local.tag]

  allow {
    protocol = "all"
  }
}

resource "google_compute_firewall" "intra_subnet_egress" {
  name               = "${local.name}-intra-out"
  project            = var.project
  network            = local.network
  direction          = "EGRESS"
  destination_ranges = [local.subnet_cidr]
  target_tags        = [local.tag]

  allow {
    protocol = "all"
  }
}

resource "google_compute_firewall" "web_egress" {
  name               = "${local.name}-web-out"
  project            = var.project
  network            = local.network
  direction          = "EGRESS"
  destination_ranges = ["0.0.0.0/0"]
  target_tags        = [local.tag]

  allow {
    protocol = "tcp"
    ports    = ["80", "443"]
  }
}

resource "google_compute_firewall" "deny_egress" {
  name               = "${local.name}-deny-out"
  project            = var.project
  network            = local.network
  direction          = "EGRESS"
  priority           = 65000
  destination_ranges = ["0.0.0.0/0"]
  target_tags        = [local.tag]

  deny {
    protocol = "all"
  }
}
