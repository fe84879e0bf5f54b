# The Helm side of the controllers (their IAM is in controllers.tf): the Helm provider
# talks to the cluster this configuration creates, authenticating the way kubectl does
# (a token from `aws eks get-token`, so the AWS CLI must be on the PATH of whoever runs
# Terraform). Kept in this one file because it is the only part of the configuration
# that needs a live Kubernetes API.

provider "helm" {
  kubernetes = {
    host                   = module.eks.cluster_endpoint
    cluster_ca_certificate = base64decode(module.eks.cluster_certificate_authority_data)

    exec = {
      api_version = "client.authentication.k8s.io/v1beta1"
      command     = "aws"
      args        = ["eks", "get-token", "--cluster-name", module.eks.cluster_name, "--region", var.region]
    }
  }
}

module "controllers" {
  source = "../../modules/eks-controllers"

  cluster_name = module.eks.cluster_name
  region       = var.region
  vpc_id       = module.vpc.vpc_id

  load_balancer_controller = {
    chart_version   = trimprefix(local.load_balancer_controller_version, "v")
    namespace       = local.controllers.load_balancer_controller.namespace
    service_account = local.controllers.load_balancer_controller.service_account
    role_arn        = aws_iam_role.controller["load_balancer_controller"].arn
  }

  cluster_autoscaler = {
    chart_version   = var.cluster_autoscaler_chart_version
    image_tag       = var.cluster_autoscaler_image_tag
    namespace       = local.controllers.cluster_autoscaler.namespace
    service_account = local.controllers.cluster_autoscaler.service_account
    role_arn        = aws_iam_role.controller["cluster_autoscaler"].arn
  }

  # The roles' policies must be attached before the controllers first call AWS.
  depends_on = [aws_iam_role_policy_attachment.controller, module.eks]
}
