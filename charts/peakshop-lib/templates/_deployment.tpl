{{/*
Deployment of a web service or worker. Web services: rolling update that never drops below the current
count (maxUnavailable 0); the HPA owns the replica count, so `replicas` is deliberately absent (a value here
would reset the autoscaled count on every upgrade). Queue workers: KEDA owns the count. The outbox relay is
a singleton: one replica, replaced with Recreate so two never publish at once during a rollout.
*/}}
{{- define "peakshop-lib.deployment" -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  {{- include "peakshop-lib.metadata" . | nindent 2 }}
spec:
  {{- if .w.singleton }}
  replicas: 1
  strategy:
    type: Recreate
  {{- else }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 25%
  {{- end }}
  revisionHistoryLimit: 5
  progressDeadlineSeconds: 600
  selector:
    matchLabels:
      {{- include "peakshop-lib.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "peakshop-lib.labels" . | nindent 8 }}
      annotations:
        # Roll the pods when their settings change (envFrom is read at start only).
        checksum/config: {{ include "peakshop-lib.configEnv" . | sha256sum }}
        checksum/entrypoint: {{ .root.Files.Get "files/secrets_env.py" | sha256sum }}
    spec:
      {{- include "peakshop-lib.podSpec" . | nindent 6 }}
{{- end }}

{{- define "peakshop-lib.service" -}}
apiVersion: v1
kind: Service
metadata:
  {{- include "peakshop-lib.metadata" . | nindent 2 }}
spec:
  type: ClusterIP
  selector:
    {{- include "peakshop-lib.selectorLabels" . | nindent 4 }}
  ports:
    - name: http
      port: {{ .root.Values.app.port }}
      targetPort: http
      protocol: TCP
{{- end }}

{{/* One field only: minAvailable one below the HPA minimum, so a drain can always evict a pod at the
minimum while the others keep serving. */}}
{{- define "peakshop-lib.podDisruptionBudget" -}}
{{- $min := int .w.autoscaling.minReplicas -}}
{{- if lt $min 2 -}}
{{- fail (printf "workloads.%s: a web service needs autoscaling.minReplicas >= 2, got %d" .name $min) -}}
{{- end -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  {{- include "peakshop-lib.metadata" . | nindent 2 }}
spec:
  minAvailable: {{ sub $min 1 }}
  selector:
    matchLabels:
      {{- include "peakshop-lib.selectorLabels" . | nindent 6 }}
{{- end }}

{{/* CPU and requests per second per pod (Pods metric from prometheus-adapter over the app's
peakshop_http_requests counter). Scale up fast, scale down slowly. */}}
{{- define "peakshop-lib.horizontalPodAutoscaler" -}}
{{- $a := .w.autoscaling -}}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  {{- include "peakshop-lib.metadata" . | nindent 2 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ .name }}
  minReplicas: {{ $a.minReplicas }}
  maxReplicas: {{ $a.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target: {type: Utilization, averageUtilization: {{ $a.cpuUtilization }}}
    - type: Pods
      pods:
        metric: {name: peakshop_http_requests_per_second}
        target: {type: AverageValue, averageValue: {{ $a.requestsPerSecond | quote }}}
  behavior:
    scaleUp:
      stabilizationWindowSeconds: 0
      policies:
        - {type: Percent, value: 100, periodSeconds: 30}
    scaleDown:
      stabilizationWindowSeconds: 300
      policies:
        - {type: Percent, value: 20, periodSeconds: 60}
{{- end }}

{{/* Binds the Service's pods (ip targets) into the target group Terraform owns (stacks/compute.py). */}}
{{- define "peakshop-lib.targetGroupBinding" -}}
apiVersion: elbv2.k8s.aws/v1beta1
kind: TargetGroupBinding
metadata:
  {{- include "peakshop-lib.metadata" . | nindent 2 }}
spec:
  serviceRef:
    name: {{ .name }}
    port: {{ .root.Values.app.port }}
  targetGroupARN: {{ required (printf "pipeline.targetGroupArns.%s: the pipeline sets it from the compute stack's outputs" .name) (index .root.Values.pipeline.targetGroupArns .name) | quote }}
  targetType: ip
{{- end }}

{{/* Queue workers scale on SQS depth. KEDA reads the queue with its own IRSA role (identityOwner keda). */}}
{{- define "peakshop-lib.scaledObject" -}}
{{- $s := .w.scaling -}}
{{- $queue := required (printf "workloads.%s.consumes: a scaled worker needs its queue" .name) .w.consumes -}}
apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  {{- include "peakshop-lib.metadata" . | nindent 2 }}
spec:
  podIdentity:
    provider: aws
    identityOwner: keda
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  {{- include "peakshop-lib.metadata" . | nindent 2 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ .name }}
  minReplicaCount: {{ $s.minReplicas }}
  maxReplicaCount: {{ $s.maxReplicas }}
  pollingInterval: {{ $s.pollingInterval }}
  cooldownPeriod: {{ $s.cooldownPeriod }}
  triggers:
    - type: aws-sqs-queue
      authenticationRef:
        name: {{ .name }}
      metadata:
        queueURL: {{ index .root.Values.pipeline.queueUrls $queue | quote }}
        queueLength: {{ $s.messagesPerReplica | quote }}
        awsRegion: {{ .root.Values.pipeline.region | quote }}
        scaleOnInFlight: "true"
{{- end }}
