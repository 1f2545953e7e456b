{{/* Chart name, overridable with nameOverride. */}}
{{- define "wva.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Prefix of every namespaced resource name. */}}
{{- define "wva.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Prefix of cluster-scoped names: unique per release and namespace. */}}
{{- define "wva.clusterName" -}}
{{- printf "%s-%s" (include "wva.fullname" .) .Release.Namespace }}
{{- end }}

{{- define "wva.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "wva.selectorLabels" -}}
app.kubernetes.io/name: {{ include "wva.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
control-plane: controller-manager
{{- end }}

{{- define "wva.labels" -}}
helm.sh/chart: {{ include "wva.chart" . }}
app.kubernetes.io/name: {{ include "wva.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: workload-variant-autoscaler
{{- end }}

{{- define "wva.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (printf "%s-controller-manager" (include "wva.fullname" .)) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Namespace the controller watches when namespaceScoped is true. */}}
{{- define "wva.watchNamespace" -}}
{{- default .Release.Namespace .Values.watchNamespace }}
{{- end }}

{{- define "wva.configMapName" -}}
{{- printf "%s-variantautoscaling-config" (include "wva.fullname" .) }}
{{- end }}

{{- define "wva.saturationConfigMapName" -}}
{{- printf "%s-saturation-scaling-config" (include "wva.fullname" .) }}
{{- end }}

{{- define "wva.caConfigMapName" -}}
{{- if .Values.prometheus.tls.existingCAConfigMap }}
{{- .Values.prometheus.tls.existingCAConfigMap }}
{{- else }}
{{- printf "%s-prometheus-ca" (include "wva.fullname" .) }}
{{- end }}
{{- end }}

{{- define "wva.hasCA" -}}
{{- if or .Values.prometheus.tls.caCert .Values.prometheus.tls.existingCAConfigMap }}true{{ end }}
{{- end }}

{{- define "wva.scraperName" -}}
{{- printf "%s-metrics-scraper" (include "wva.fullname" .) }}
{{- end }}

{{/* The Lease the controller's leader election uses (the same rule as the controller's leaseName). */}}
{{- define "wva.leaseName" -}}
{{- $id := .Values.leaderElection.id -}}
{{- $safe := regexReplaceAll "^[^a-z0-9]+|[^a-z0-9]+$" (regexReplaceAll "[^a-z0-9.-]+" (lower .Values.controllerInstance) "-") "" -}}
{{- if $safe }}{{ printf "%s.%s" $safe $id }}{{ else }}{{ $id }}{{ end -}}
{{- end }}

{{/* Label matchers that select this controller's wva_* series (its instance, when one is set). */}}
{{- define "wva.seriesSelector" -}}
{{- with .Values.controllerInstance }}controller_instance={{ . | quote }}{{ end -}}
{{- end }}
