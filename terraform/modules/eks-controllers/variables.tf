variable "cluster_name" {
  type        = string
  description = "Name of the EKS cluster the controllers run in (the Load Balancer Controller tags what it creates with it; the Cluster Autoscaler discovers node groups tagged k8s.io/cluster-autoscaler/<name>)."
}

variable "region" {
  type        = string
  description = "AWS region of the cluster. Given explicitly because pods cannot reach the instance metadata service (hop limit 1) to find it."

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must look like us-east-1."
  }
}

variable "vpc_id" {
  type        = string
  description = "VPC of the cluster, for the Load Balancer Controller (which cannot read it from instance metadata either)."

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "vpc_id must look like vpc-0123456789abcdef0."
  }
}

variable "load_balancer_controller" {
  type = object({
    chart_version   = string
    namespace       = string
    service_account = string
    role_arn        = string
  })
  description = "The AWS Load Balancer Controller: chart version (eks-charts; equals the controller's release, whose IAM policy the role must hold), where it runs, and its IRSA role."

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.load_balancer_controller.chart_version))
    error_message = "load_balancer_controller.chart_version must be an exact version such as 3.5.0."
  }
}

variable "cluster_autoscaler" {
  type = object({
    chart_version   = string
    image_tag       = string
    namespace       = string
    service_account = string
    role_arn        = string
  })
  description = "The Cluster Autoscaler: chart version, image tag (its minor must match the cluster's Kubernetes minor), where it runs, and its IRSA role."

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.cluster_autoscaler.chart_version)) && can(regex("^v1\\.[0-9]+\\.[0-9]+$", var.cluster_autoscaler.image_tag))
    error_message = "cluster_autoscaler needs an exact chart_version (9.59.0) and image_tag (v1.34.5)."
  }
}
