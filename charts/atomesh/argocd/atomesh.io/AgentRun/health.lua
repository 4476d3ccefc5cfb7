-- Argo CD health of an atomesh.io/v1alpha1 AgentRun, from status.phase.
-- AwaitingReview is Suspended: nothing progresses until a person reviews the pull request; so is
-- Paused (at a hard limit), until a person raises the budget or resumes the run.
-- Cancelled is Degraded, not Suspended: it is terminal (nothing resumes it) and the artifact
-- was never delivered, the same call Argo Rollouts makes for an aborted rollout.
local hs = {}

if obj.status == nil or obj.status.phase == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to start the run"
  return hs
end

local generation = obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and observed ~= nil and observed < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. generation
  return hs
end

local phase = obj.status.phase
local detail = obj.status.message
if detail == nil or detail == "" then
  detail = obj.status.reason
end

local function say(prefix)
  -- Reason often repeats the phase ("Running"); say it once.
  if detail ~= nil and detail ~= "" and detail ~= prefix then
    return prefix .. ": " .. detail
  end
  return prefix
end

if phase == "Pending" or phase == "Running" or phase == "Queued" then
  -- Queued waits for its budget window and starts on its own when it opens.
  hs.status = "Progressing"
  hs.message = say(phase)
elseif phase == "Paused" then
  -- Stopped at its hard limit with its session kept: a person raises the budget or resumes it.
  hs.status = "Suspended"
  hs.message = say("Paused")
elseif phase == "AwaitingReview" then
  hs.status = "Suspended"
  local url = nil
  if obj.status.review ~= nil then
    url = obj.status.review.url
  end
  if url ~= nil and url ~= "" then
    hs.message = "Pull request awaits review: " .. url
  else
    hs.message = say("Awaiting review")
  end
elseif phase == "Succeeded" then
  hs.status = "Healthy"
  hs.message = say("Succeeded")
elseif phase == "Failed" or phase == "Rejected" or phase == "Cancelled" then
  hs.status = "Degraded"
  hs.message = say(phase)
else
  hs.status = "Unknown"
  hs.message = "Unknown phase " .. tostring(phase)
end
return hs
