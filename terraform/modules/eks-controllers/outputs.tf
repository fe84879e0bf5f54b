output "load_balancer_controller_version" {
  description = "Chart version of the installed AWS Load Balancer Controller."
  value       = helm_release.aws_load_balancer_controller.version
}

output "cluster_autoscaler_version" {
  description = "Chart version of the installed Cluster Autoscaler."
  value       = helm_release.cluster_autoscaler.version
}
