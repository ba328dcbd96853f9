terraform {
  # 1.2 for lifecycle preconditions; vsphere 2.7 for `memory_reservation_locked_to_max`
  # of vsphere_virtual_machine.
  required_version = ">= 1.2"

  required_providers {
    vsphere = {
      source  = "hashicorp/vsphere"
      version = ">= 2.7"
    }
  }
}
