{{/* Chart name, overridable. */}}
{{- define "modelgate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Prefix of every object name. Truncated to 40 characters so that "<fullname>-webhook-metrics" and
the other suffixes stay within the 63-character limit of Service and label values.
*/}}
{{- define "modelgate.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "modelgate.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "modelgate.labels" -}}
helm.sh/chart: {{ include "modelgate.chart" . }}
app.kubernetes.io/name: {{ include "modelgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: modelgate
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one component: include "modelgate.selectorLabels" (list . "webhook") */}}
{{- define "modelgate.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "modelgate.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{/* Labels of one component's objects. */}}
{{- define "modelgate.componentLabels" -}}
{{ include "modelgate.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{/* Image reference: repository@digest, else repository:tag (tag defaults to appVersion). */}}
{{- define "modelgate.imageRef" -}}
{{- $image := index . 0 -}}
{{- $root := index . 1 -}}
{{- if $image.digest -}}
{{- printf "%s@%s" $image.repository $image.digest -}}
{{- else -}}
{{- printf "%s:%s" $image.repository (default $root.Chart.AppVersion $image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "modelgate.image" -}}
{{- include "modelgate.imageRef" (list .Values.image .) -}}
{{- end -}}

{{/* The verifier image: its own values where set, else the main image. */}}
{{- define "modelgate.verifierImage" -}}
{{- $v := .Values.verifier.image -}}
{{- if $v.repository -}}
{{- include "modelgate.imageRef" (list $v .) -}}
{{- else if or $v.tag $v.digest -}}
{{- include "modelgate.imageRef" (list (dict "repository" .Values.image.repository "tag" $v.tag "digest" $v.digest) .) -}}
{{- else -}}
{{- include "modelgate.image" . -}}
{{- end -}}
{{- end -}}

{{- define "modelgate.webhook.serviceAccountName" -}}
{{- if .Values.webhook.serviceAccount.create -}}
{{- default (printf "%s-webhook" (include "modelgate.fullname" .)) .Values.webhook.serviceAccount.name -}}
{{- else -}}
{{- required "webhook.serviceAccount.name is required when webhook.serviceAccount.create is false" .Values.webhook.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "modelgate.controller.serviceAccountName" -}}
{{- if .Values.controller.serviceAccount.create -}}
{{- default (printf "%s-controller" (include "modelgate.fullname" .)) .Values.controller.serviceAccount.name -}}
{{- else -}}
{{- required "controller.serviceAccount.name is required when controller.serviceAccount.create is false" .Values.controller.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Object names shared by several templates (and passed to the controller as flags). */}}
{{- define "modelgate.webhook.serviceName" -}}{{ include "modelgate.fullname" . }}-webhook{{- end -}}
{{- define "modelgate.webhook.tlsSecretName" -}}{{ include "modelgate.fullname" . }}-webhook-tls{{- end -}}
{{- define "modelgate.webhookConfigurationName" -}}{{ include "modelgate.fullname" . }}{{- end -}}
{{- define "modelgate.certificateName" -}}{{ include "modelgate.fullname" . }}-webhook{{- end -}}
{{- define "modelgate.controller.leaseName" -}}
{{- default (printf "%s-controller" (include "modelgate.fullname" .)) .Values.controller.leaderElection.leaseName -}}
{{- end -}}

{{/*
Namespaces never sent to either webhook: the control plane's own, modelgate's (so the webhook can
always start), and any the admin adds. Matched by the immutable kubernetes.io/metadata.name label,
which the API server sets on every namespace and nobody can change.
*/}}
{{- define "modelgate.exemptNamespaces" -}}
{{- $ns := list "kube-system" "kube-node-lease" "kube-public" .Release.Namespace -}}
{{- range .Values.webhook.excludedNamespaces -}}{{- $ns = append $ns . -}}{{- end -}}
{{- toYaml ($ns | uniq) -}}
{{- end -}}

{{- define "modelgate.namespaceSelector" -}}
{{- $sel := .Values.webhook.namespaceSelector | default dict -}}
{{- with $sel.matchLabels }}
matchLabels:
  {{- toYaml . | nindent 2 }}
{{- end }}
matchExpressions:
  - key: kubernetes.io/metadata.name
    operator: NotIn
    values:
      {{- include "modelgate.exemptNamespaces" . | nindent 6 }}
{{- with $sel.matchExpressions }}
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Pod anti-affinity from the soft/hard/none value; an explicit affinity wins. */}}
{{- define "modelgate.affinity" -}}
{{- $root := index . 0 -}}
{{- $component := index . 1 -}}
{{- $values := index . 2 -}}
{{- if $values.affinity -}}
{{- toYaml $values.affinity -}}
{{- else if eq (default "none" $values.podAntiAffinity) "hard" -}}
podAntiAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    - topologyKey: kubernetes.io/hostname
      labelSelector:
        matchLabels:
          {{- include "modelgate.selectorLabels" (list $root $component) | nindent 10 }}
{{- else if eq (default "none" $values.podAntiAffinity) "soft" -}}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "modelgate.selectorLabels" (list $root $component) | nindent 12 }}
{{- end -}}
{{- end -}}

{{/*
V8 heap cap in MiB: three quarters of the container's memory limit (Ki/Mi/Gi/K/M/G or bytes), leaving
room for buffers and native memory, so the process garbage-collects before the kernel OOM-kills it.
Empty when no limit is set.
*/}}
{{- define "modelgate.heapMiB" -}}
{{- $limit := "" -}}
{{- with .limits }}{{ with .memory }}{{ $limit = toString . }}{{ end }}{{ end -}}
{{- if $limit -}}
{{- $units := dict "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "K" 1000.0 "M" 1000000.0 "G" 1000000000.0 -}}
{{- $bytes := 0.0 -}}
{{- $matched := false -}}
{{- range $suffix := list "Ki" "Mi" "Gi" "K" "M" "G" -}}
{{- if and (not $matched) (hasSuffix $suffix $limit) -}}
{{- $bytes = mulf (float64 (trimSuffix $suffix $limit)) (get $units $suffix) -}}
{{- $matched = true -}}
{{- end -}}
{{- end -}}
{{- if not $matched }}{{ $bytes = float64 $limit }}{{ end -}}
{{- $mib := floor (divf (mulf $bytes 0.75) 1048576.0) | int -}}
{{- if gt $mib 0 }}{{ $mib }}{{ end -}}
{{- end -}}
{{- end -}}
