variable "endpoint" {
  type        = string
  description = "URL of the AWS emulator as this machine reaches it: moto_server's default http://127.0.0.1:5000, the minikube moto service through `kubectl -n roster port-forward svc/moto 5000:5000`, or LocalStack's http://127.0.0.1:4566."
  default     = "http://127.0.0.1:5000"

  validation {
    condition     = can(regex("^https?://[^/]+/?$", var.endpoint))
    error_message = "endpoint must be an http(s) URL with no path, e.g. http://127.0.0.1:5000."
  }
}

variable "access_key" {
  type        = string
  description = "Access key id Terraform signs with. Any value works with an emulator that does not enforce IAM (the default, test); with moto's IAM enforcement, an administrator's key."
  default     = "test"
}

variable "secret_key" {
  type        = string
  description = "Secret access key that goes with access_key."
  default     = "test"
  sensitive   = true
}

variable "roster_endpoint_url" {
  type        = string
  description = "The emulator's URL as the roster pod reaches it (its AWS_ENDPOINT_URL), e.g. http://moto.roster.svc.cluster.local:5000 in minikube. Null: the same as endpoint (roster running on this machine)."
  default     = null

  validation {
    condition     = var.roster_endpoint_url == null || can(regex("^https?://[^/]+/?$", var.roster_endpoint_url))
    error_message = "roster_endpoint_url must be an http(s) URL with no path, or null."
  }
}

variable "avatar_base_url" {
  type        = string
  description = "Base of avatar_url as the browser reaches the emulator (path-style: <endpoint>/<bucket>). Null: endpoint/bucket_name."
  default     = null

  validation {
    condition     = var.avatar_base_url == null || can(regex("^https?://[^ ]+[^/]$", var.avatar_base_url))
    error_message = "avatar_base_url must be an http(s) URL without a trailing slash, or null."
  }
}

variable "region" {
  type        = string
  description = "Region the emulator pretends to be in (roster's AWS_REGION)."
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must look like us-east-1."
  }
}

variable "table_name" {
  type        = string
  description = "DynamoDB users table (roster's ROSTER_TABLE)."
  default     = "users"

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{3,255}$", var.table_name))
    error_message = "table_name must be 3-255 characters of letters, digits, '_', '-' and '.'."
  }
}

variable "bucket_name" {
  type        = string
  description = "S3 avatar bucket (roster's ROSTER_BUCKET). Local, so the default name cannot clash with anyone's."
  default     = "roster-avatars"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be 3-63 characters of lower-case letters, digits and '-'."
  }
}

variable "namespace" {
  type        = string
  description = "Kubernetes namespace of roster's service account."
  default     = "roster"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "namespace must be a DNS-1123 label."
  }
}

variable "service_account" {
  type        = string
  description = "Name of roster's Kubernetes service account."
  default     = "roster"

  validation {
    condition     = length(var.service_account) <= 253 && can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", var.service_account))
    error_message = "service_account must be a DNS-1123 subdomain."
  }
}

variable "oidc_issuer_url" {
  type        = string
  description = "Service-account token issuer registered as the emulator's OIDC provider. minikube's API server issues tokens as https://kubernetes.default.svc.cluster.local; nothing verifies them locally, the role exists so the same trust policy as on EKS can be inspected."
  default     = "https://kubernetes.default.svc.cluster.local"

  validation {
    condition     = can(regex("^https://[^ ]+[^/]$", var.oidc_issuer_url))
    error_message = "oidc_issuer_url must be an https URL without a trailing slash."
  }
}

variable "deletion_protection" {
  type        = bool
  description = "DynamoDB deletion protection. Off by default here: the emulator's table is scratch data and `terraform destroy` must work."
  default     = false
}

variable "local_user_name" {
  type        = string
  description = "IAM user whose access key roster uses on the emulator; it holds exactly the roster policy, like the IRSA role on EKS."
  default     = "roster-local"

  validation {
    condition     = can(regex("^[a-zA-Z0-9+=,.@_-]{1,64}$", var.local_user_name))
    error_message = "local_user_name must be 1-64 characters of letters, digits and +=,.@_-."
  }
}
