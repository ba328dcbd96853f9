terraform {
  # 1.2 for lifecycle preconditions; the AWS provider 5.x for the per-rule security group
  # resources (aws_vpc_security_group_*_rule) and `efa-only` network interfaces.
  required_version = ">= 1.2"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60"
    }
  }
}
