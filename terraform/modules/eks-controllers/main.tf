# The two controllers roster's EKS overlay needs from the cluster, installed with Helm.
# (metrics-server is an EKS add-on, set up with the cluster.) Both run two replicas
# spread over zones, so a drained node or a lost zone does not stop ALB target
# registration or node scaling just when the pods that need them are moving.

resource "helm_release" "aws_load_balancer_controller" {
  name       = "aws-load-balancer-controller"
  repository = "https://aws.github.io/eks-charts"
  chart      = "aws-load-balancer-controller"
  version    = var.load_balancer_controller.chart_version
  namespace  = var.load_balancer_controller.namespace

  # Helm waits for the webhook to be ready: until then, creating a Service or an
  # Ingress would fail against its admission webhook.
  wait    = true
  timeout = 600

  values = [yamlencode({
    clusterName  = var.cluster_name
    region       = var.region
    vpcId        = var.vpc_id
    replicaCount = 2
    serviceAccount = {
      create = true
      name   = var.load_balancer_controller.service_account
      annotations = {
        "eks.amazonaws.com/role-arn" = var.load_balancer_controller.role_arn
      }
    }
    # The IngressClass `alb` the overlay's Ingress names.
    createIngressClassResource = true
    ingressClass               = "alb"
    podDisruptionBudget = {
      maxUnavailable = 1
    }
    topologySpreadConstraints = [{
      maxSkew           = 1
      topologyKey       = "topology.kubernetes.io/zone"
      whenUnsatisfiable = "ScheduleAnyway"
      labelSelector = {
        matchLabels = {
          "app.kubernetes.io/name" = "aws-load-balancer-controller"
        }
      }
    }]
  })]
}

resource "helm_release" "cluster_autoscaler" {
  name       = "cluster-autoscaler"
  repository = "https://kubernetes.github.io/autoscaler"
  chart      = "cluster-autoscaler"
  version    = var.cluster_autoscaler.chart_version
  namespace  = var.cluster_autoscaler.namespace

  wait    = true
  timeout = 600

  values = [yamlencode({
    cloudProvider = "aws"
    awsRegion     = var.region
    autoDiscovery = {
      clusterName = var.cluster_name
    }
    image = {
      tag = var.cluster_autoscaler.image_tag
    }
    replicaCount = 2
    rbac = {
      serviceAccount = {
        create = true
        name   = var.cluster_autoscaler.service_account
        annotations = {
          "eks.amazonaws.com/role-arn" = var.cluster_autoscaler.role_arn
        }
      }
    }
    extraArgs = {
      # The node groups are one per zone and otherwise alike: keep them the same size,
      # so every zone has room for its share of a topology-spread Deployment.
      "balance-similar-node-groups" = true
      # Scale down nodes whose only pods are kube-system DaemonSet-like add-ons too.
      "skip-nodes-with-system-pods" = false
      expander                      = "least-waste"
    }
    podDisruptionBudget = {
      maxUnavailable = 1
    }
    # One replica leads at a time; the other, in another zone, takes over when it goes.
    topologySpreadConstraints = [{
      maxSkew           = 1
      topologyKey       = "topology.kubernetes.io/zone"
      whenUnsatisfiable = "ScheduleAnyway"
      labelSelector = {
        matchLabels = {
          "app.kubernetes.io/instance" = "cluster-autoscaler"
        }
      }
    }]
  })]
}
