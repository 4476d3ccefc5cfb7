{{/* Chart name, overridable. */}}
{{- define "atomesh.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release-chart, or the release name alone when it already contains the chart name. */}}
{{- define "atomesh.fullname" -}}
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

{{- define "atomesh.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels: stable across upgrades, so they never change a Deployment's selector. */}}
{{- define "atomesh.selectorLabels" -}}
app.kubernetes.io/name: {{ include "atomesh.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "atomesh.labels" -}}
helm.sh/chart: {{ include "atomesh.chart" . }}
{{ include "atomesh.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: atomesh
{{- end }}

{{- define "atomesh.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "atomesh.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "atomesh.runnerServiceAccountName" -}}
{{- default (printf "%s-runner" (include "atomesh.fullname" .)) .Values.runner.serviceAccount.name }}
{{- end }}

{{/* The operator image: a digest pins it exactly; otherwise the tag, defaulting to appVersion. */}}
{{- define "atomesh.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "atomesh.runnerImage" -}}
{{- if or .Values.runner.image.repository .Values.runner.image.tag }}
{{- printf "%s:%s" (default .Values.image.repository .Values.runner.image.repository) (default (default .Chart.AppVersion .Values.image.tag) .Values.runner.image.tag) }}
{{- else }}
{{- include "atomesh.image" . }}
{{- end }}
{{- end }}

{{/* Namespaces the operator watches; empty means all (cluster scope only). */}}
{{- define "atomesh.watchNamespaces" -}}
{{- if .Values.operator.watchNamespaces }}
{{- join "," .Values.operator.watchNamespaces }}
{{- else if eq .Values.rbac.scope "namespace" }}
{{- .Release.Namespace }}
{{- end }}
{{- end }}

{{/* True when the operator runs with --all-namespaces (and kopf uses ClusterKopfPeering). */}}
{{- define "atomesh.clusterwide" -}}
{{- if not (include "atomesh.watchNamespaces" .) }}true{{ end }}
{{- end }}

{{/* Peering replaces --standalone as soon as more than one replica may run, unless they shard. */}}
{{- define "atomesh.peering" -}}
{{- if and (gt (int .Values.operator.replicas) 1) (not (include "atomesh.sharding" .)) }}true{{ end }}
{{- end }}

{{/* Sharding: replicas split the namespaces by shard Leases (operator.sharding.shards > 0). */}}
{{- define "atomesh.sharding" -}}
{{- if gt (int .Values.operator.sharding.shards) 0 }}true{{ end }}
{{- end }}

{{- define "atomesh.peeringName" -}}
{{- default (include "atomesh.fullname" .) .Values.operator.peering.name }}
{{- end }}
