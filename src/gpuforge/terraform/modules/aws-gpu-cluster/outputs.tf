output "nodes" {
  description = "The nodes contract shared by every gpuforge cluster module: one object per running instance (named by instance id) with name, private_ip, pool, gpu_model, gpu_count, instance_type, market (the pool's) and zone."
  value = [
    for id in sort(data.aws_instances.pool.ids) : {
      name          = id
      private_ip    = zipmap(data.aws_instances.pool.ids, data.aws_instances.pool.private_ips)[id]
      pool          = var.pool_name
      gpu_model     = var.gpu_model
      gpu_count     = var.gpu_count
      instance_type = var.instance_type
      market        = var.market
      zone          = local.availability_zone
    }
  ]
}

output "autoscaling_group_name" {
  description = "Name of the pool's Auto Scaling group."
  value       = aws_autoscaling_group.pool.name
}

output "launch_template_id" {
  description = "ID of the nodes' launch template."
  value       = aws_launch_template.node.id
}

output "security_group_id" {
  description = "ID of the nodes' security group (reference it to let other resources reach the pool)."
  value       = aws_security_group.nodes.id
}

output "vpc_id" {
  description = "ID of the VPC the pool runs in (created or existing)."
  value       = local.vpc_id
}

output "subnet_id" {
  description = "ID of the subnet the pool runs in (created or existing)."
  value       = local.subnet_id
}

output "placement_group_name" {
  description = "Name of the cluster placement group, or null when placement_group is false."
  value       = try(aws_placement_group.this[0].name, null)
}

output "efa_interface_count" {
  description = "EFA interfaces attached to every instance (0 when the instance type has none or efa_enabled is false)."
  value       = local.efa_count
}

output "ami_id" {
  description = "AMI the nodes boot from."
  value       = data.aws_ami.node.id
}
