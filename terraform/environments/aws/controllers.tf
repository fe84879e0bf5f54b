# IAM for the two controllers helm.tf installs in kube-system, each through IRSA with a
# role of its own that trusts exactly its service account:
# - the AWS Load Balancer Controller, which turns the overlay's `alb` Ingress into an
#   ALB, with the IAM policy AWS publishes for its release (a copy of
#   kubernetes-sigs/aws-load-balancer-controller docs/install/iam_policy.json at the tag
#   below, byte for byte; replace file and version together);
# - the Cluster Autoscaler, which adds nodes to a zone's node group when pods cannot be
#   scheduled (a drain, a lost zone, an HPA scale-up) and removes idle ones. Cluster
#   Autoscaler rather than Karpenter: it scales the managed node groups above, one per
#   zone, so capacity is added in exactly the zone a pending pod needs, with a policy of
#   a dozen actions; Karpenter would replace the node groups with its own provisioning
#   (an interruption queue, EventBridge rules, a node role and CRDs) for bin-packing
#   gains this service does not need.

locals {
  load_balancer_controller_version = "v3.5.0"

  controllers = {
    load_balancer_controller = {
      namespace       = "kube-system"
      service_account = "aws-load-balancer-controller"
      role_name       = "${local.name}-lb-controller"
      policy          = file("${path.module}/policies/aws-load-balancer-controller-${local.load_balancer_controller_version}.json")
    }
    cluster_autoscaler = {
      namespace       = "kube-system"
      service_account = "cluster-autoscaler"
      role_name       = "${local.name}-cluster-autoscaler"
      policy          = data.aws_iam_policy_document.cluster_autoscaler.json
    }
  }

  oidc_issuer = element(split(":oidc-provider/", module.eks.oidc_provider_arn), 1)
}

# Permissions from the Cluster Autoscaler's AWS documentation (cloudprovider/aws/README.md,
# "Full Cluster Autoscaler Features Policy"), with the two calls that change capacity
# limited to this cluster's node groups: EKS tags every managed node group's Auto
# Scaling group k8s.io/cluster-autoscaler/<cluster> = owned.
data "aws_iam_policy_document" "cluster_autoscaler" {
  #checkov:skip=CKV_AWS_356:Describe calls take no resource ARN (IAM only allows "*" for them); the calls that change capacity are limited by tag.
  statement {
    sid    = "DiscoverNodeGroups"
    effect = "Allow"
    actions = [
      "autoscaling:DescribeAutoScalingGroups",
      "autoscaling:DescribeAutoScalingInstances",
      "autoscaling:DescribeLaunchConfigurations",
      "autoscaling:DescribeScalingActivities",
      "autoscaling:DescribeTags",
      "ec2:DescribeImages",
      "ec2:DescribeInstanceTypes",
      "ec2:DescribeLaunchTemplateVersions",
      "ec2:GetInstanceTypesFromInstanceRequirements",
      "eks:DescribeNodegroup",
    ]
    resources = ["*"]
  }

  statement {
    sid    = "ScaleThisClustersNodeGroups"
    effect = "Allow"
    actions = [
      "autoscaling:SetDesiredCapacity",
      "autoscaling:TerminateInstanceInAutoScalingGroup",
    ]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/k8s.io/cluster-autoscaler/${module.eks.cluster_name}"
      values   = ["owned"]
    }
  }
}

data "aws_iam_policy_document" "controller_trust" {
  for_each = local.controllers

  statement {
    sid     = "ServiceAccount"
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [module.eks.oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_issuer}:sub"
      values   = ["system:serviceaccount:${each.value.namespace}:${each.value.service_account}"]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "controller" {
  for_each = local.controllers

  name               = each.value.role_name
  description        = "${each.value.namespace}/${each.value.service_account} on ${local.name} through IRSA"
  assume_role_policy = data.aws_iam_policy_document.controller_trust[each.key].json
}

resource "aws_iam_policy" "controller" {
  for_each = local.controllers

  name        = each.value.role_name
  description = "What ${each.value.service_account} calls on ${local.name}"
  policy      = each.value.policy
}

resource "aws_iam_role_policy_attachment" "controller" {
  for_each = local.controllers

  role       = aws_iam_role.controller[each.key].name
  policy_arn = aws_iam_policy.controller[each.key].arn
}
