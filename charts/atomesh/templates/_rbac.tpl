{{/* Rules for the namespaced resources the operator works on; shared by the ClusterRole
(scope cluster) and each per-namespace Role (scope namespace). */}}
{{- define "atomesh.namespacedRules" -}}
- apiGroups: ["atomesh.io"]
  resources: ["agents", "meshes", "contexts", "budgets"]
  verbs: ["get", "list", "watch", "patch", "update"]
# Runs are created by schedules, mesh edges and revisions, and deleted by history limits.
- apiGroups: ["atomesh.io"]
  resources: ["agentruns"]
  verbs: ["get", "list", "watch", "create", "patch", "update", "delete"]
- apiGroups: ["atomesh.io"]
  resources: ["agents/status", "meshes/status", "agentruns/status", "contexts/status", "budgets/status"]
  verbs: ["get", "patch", "update"]
# Owner references with blockOwnerDeletion need update on the owner's finalizers.
- apiGroups: ["atomesh.io"]
  resources: ["agents/finalizers", "meshes/finalizers", "agentruns/finalizers"]
  verbs: ["update"]
# One runner pod and one run ConfigMap per AgentRun; the ConfigMaps of ConfigMap Contexts are read.
- apiGroups: [""]
  resources: ["pods", "configmaps"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: [""]
  resources: ["pods/log"]
  verbs: ["get"]
- apiGroups: ["", "events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
- apiGroups: ["coordination.k8s.io"]
  resources: ["leases"]
  verbs: ["get", "list", "watch", "create", "update", "patch"]
{{- if .Values.gateway.masterKeySecret.name }}
# Agents' virtual keys: the Secret `<agent>-gateway-key` each one's runs read (names unknown in advance).
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "create", "patch", "delete"]
{{- end }}
{{- if and (include "atomesh.peering" .) (not (include "atomesh.clusterwide" .)) }}
# Namespaced operators keep alive in a KopfPeering per watched namespace.
- apiGroups: ["kopf.dev"]
  resources: ["kopfpeerings"]
  verbs: ["get", "list", "watch", "patch"]
{{- end }}
{{- end }}

{{/* Rules of the roles for people (roles.yaml). */}}
{{- define "atomesh.viewRules" -}}
- apiGroups: ["atomesh.io"]
  resources: ["agents", "meshes", "agentruns", "contexts", "agents/status", "meshes/status", "agentruns/status", "contexts/status"]
  verbs: ["get", "list", "watch"]
{{- end }}
{{- define "atomesh.editRules" -}}
- apiGroups: ["atomesh.io"]
  resources: ["agents", "meshes", "agentruns", "contexts"]
  verbs: ["create", "update", "patch", "delete"]
{{- end }}
