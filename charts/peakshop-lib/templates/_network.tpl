{{/*
Only the paths the architecture needs. Web services: ALB (public subnets), Prometheus and the in-cluster callers
named by `calls` in; workers: only Prometheus in. Egress: cluster DNS; MySQL/Redis in the data (isolated) subnets when the workload uses them;
HTTPS to the interface VPC endpoints in the private subnets (STS for IRSA, SQS, CloudWatch Logs); HTTPS
outside the VPC only for `publicHttps` workloads (S3 via its gateway endpoint, payment providers).
*/}}
{{- define "peakshop-lib.dnsEgress" -}}
- to:
    - namespaceSelector:
        matchLabels: {kubernetes.io/metadata.name: {{ .root.Values.network.dnsNamespace }}}
      podSelector:
        matchLabels: {k8s-app: kube-dns}
  ports:
    - {protocol: UDP, port: 53}
    - {protocol: TCP, port: 53}
{{- end }}

{{- define "peakshop-lib.cidrPeers" -}}
{{- range . }}
- ipBlock: {cidr: {{ . }}}
{{- end }}
{{- end }}

{{- define "peakshop-lib.networkPolicy" -}}
{{- $v := .root.Values -}}
{{- $net := index $v.network $v.pipeline.regionRole -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  {{- include "peakshop-lib.metadata" . | nindent 2 }}
spec:
  podSelector:
    matchLabels:
      {{- include "peakshop-lib.selectorLabels" . | nindent 6 }}
  policyTypes: [Ingress, Egress]
  {{- if eq .w.kind "web" }}
  ingress:
    - from:
        {{- include "peakshop-lib.cidrPeers" (required "network.<role>.public: the ALB subnets" $net.public) | nindent 8 }}
      ports:
        - {protocol: TCP, port: {{ $v.app.port }}}
    - from:
        - namespaceSelector:
            matchLabels: {kubernetes.io/metadata.name: {{ $v.network.monitoringNamespace }}}
      ports:
        - {protocol: TCP, port: {{ $v.app.port }}}
    {{- $callers := list }}
    {{- range $caller, $other := $v.workloads }}
    {{- if has $.name ($other.calls | default list) }}{{ $callers = append $callers $caller }}{{ end }}
    {{- end }}
    {{- if $callers }}
    - from:
        {{- range $callers }}
        - podSelector:
            matchLabels:
              {{- include "peakshop-lib.selectorLabels" (dict "root" $.root "name" .) | nindent 14 }}
        {{- end }}
      ports:
        - {protocol: TCP, port: {{ $v.app.port }}}
    {{- end }}
  {{- else }}
  ingress:
    - from:
        - namespaceSelector:
            matchLabels: {kubernetes.io/metadata.name: {{ $v.network.monitoringNamespace }}}
      ports:
        - {protocol: TCP, port: {{ $v.worker.metricsPort }}}
  {{- end }}
  egress:
    {{- include "peakshop-lib.dnsEgress" . | nindent 4 }}
    {{- if .w.database }}
    - to:
        {{- include "peakshop-lib.cidrPeers" $net.isolated | nindent 8 }}
      ports:
        - {protocol: TCP, port: 3306}
    {{- end }}
    {{- if .w.redis }}
    - to:
        {{- include "peakshop-lib.cidrPeers" $net.isolated | nindent 8 }}
      ports:
        - {protocol: TCP, port: 6379}
    {{- end }}
    {{- range .w.calls }}
    - to:
        - podSelector:
            matchLabels:
              {{- include "peakshop-lib.selectorLabels" (dict "root" $.root "name" .) | nindent 14 }}
      ports:
        - {protocol: TCP, port: {{ $v.app.port }}}
    {{- end }}
    - to:
        {{- include "peakshop-lib.cidrPeers" (required "network.<role>.private: the endpoint subnets" $net.private) | nindent 8 }}
      ports:
        - {protocol: TCP, port: 443}
    {{- if .w.publicHttps }}
    - to:
        - ipBlock:
            cidr: 0.0.0.0/0
            except: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16]
      ports:
        - {protocol: TCP, port: 443}
    {{- end }}
{{- end }}
