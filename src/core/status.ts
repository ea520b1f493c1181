/**
 * Clarifai v2 status codes (integers on the wire), with the values of clarifai-grpc's
 * status_code.proto. Only the codes Sibyl produces or must understand are listed.
 */
export const StatusCode = {
  SUCCESS: 10000,
  MIXED_STATUS: 10010,
  FAILURE: 10020,
  TRY_AGAIN: 10030,
  NOT_IMPLEMENTED: 10040,
  CONN_THROTTLED: 11005,
  CONN_INSUFFICIENT_SCOPES: 11007,
  CONN_KEY_INVALID: 11008,
  CONN_KEY_NOT_FOUND: 11009,
  CONN_BAD_REQUEST_FORMAT: 11100,
  CONN_DOES_NOT_EXIST: 11101,
  CONN_INVALID_REQUEST: 11102,
  CONN_METHOD_NOT_ALLOWED: 11103,
  MODEL_TRAINED: 21100,
  MODEL_DOES_NOT_EXIST: 21200,
  MODEL_PERMISSION_DENIED: 21201,
  MODEL_INVALID_ARGUMENT: 21202,
  MODEL_PREDICTION_FAILED: 21313,
  MODEL_DEPLOYING: 21351,
  MODEL_NOT_DEPLOYED: 21353,
  MODEL_BUSY_PLEASE_RETRY: 21354,
  MODEL_LOADING: 21355,
  RUNNER_DOES_NOT_EXIST: 25600,
  RUNNER_PERMISSION_DENIED: 25601,
  RUNNER_INVALID_ARGUMENT: 25602,
  RUNNER_INVALID_REQUEST: 25603,
  RUNNER_NEEDS_RETRY: 25604,
  RUNNER_STREAM_START: 25605,
  RUNNER_STREAM_END: 25606,
  RUNNER_ITEM_CANCELLED: 25607,
  RUNNER_PROCESSING_FAILED: 25608,
  NODEPOOL_DOES_NOT_EXIST: 25700,
  NODEPOOL_INVALID_ARGUMENT: 25701,
  NODEPOOL_INVALID_REQUEST: 25702,
  COMPUTE_CLUSTER_DOES_NOT_EXIST: 25800,
  COMPUTE_CLUSTER_INVALID_ARGUMENT: 25801,
  COMPUTE_CLUSTER_INVALID_REQUEST: 25802,
  DEPLOYMENT_DOES_NOT_EXIST: 25900,
  DEPLOYMENT_INVALID_ARGUMENT: 25901,
  DEPLOYMENT_INVALID_REQUEST: 25902,
  /** A stored input is ready (the proto's INPUT_DOWNLOAD_SUCCESS, alias INPUT_SUCCESS). */
  INPUT_DOWNLOAD_SUCCESS: 30000,
  INPUT_FAILED: 30002,
  INPUT_DUPLICATE: 30100,
  INPUT_UNSUPPORTED_FORMAT: 30101,
  INPUT_DOES_NOT_EXIST: 30102,
  INPUT_INVALID_ARGUMENT: 30104,
  INPUT_OVER_LIMIT: 30105,
  INPUT_INVALID_URL: 30106,
  INPUT_CONNECTION_FAILED: 39996,
  RPC_MAX_MESSAGE_SIZE_EXCEEDED: 40033,
  INTERNAL_SERVER_ISSUE: 98004,

  // Sibyl's names for the proto codes above, where the proto has no specific one.
  /** A user the key may not see; the proto's "path does not exist". */
  USER_DOES_NOT_EXIST: 11101,
  APP_DOES_NOT_EXIST: 11101,
  INPUT_ALREADY_EXISTS: 30100,
  /** A URL download, an image or a body over its size limit. */
  REQUEST_TOO_LARGE: 30105,
  INTERNAL_ERROR: 98004,
} as const;

export type StatusCodeName = keyof typeof StatusCode;
export type StatusCodeValue = (typeof StatusCode)[StatusCodeName];

// the first name listed for a code is the proto's, so aliases never shadow it
const NAMES = new Map<number, StatusCodeName>();
for (const [name, code] of Object.entries(StatusCode))
  if (!NAMES.has(code)) NAMES.set(code, name as StatusCodeName);

/** The symbolic name of a numeric status code, e.g. 21200 -> "MODEL_DOES_NOT_EXIST". */
export function statusName(code: number): string {
  return NAMES.get(code) ?? `STATUS_${code}`;
}

/** Short human text for a code, used where nothing more specific was said. */
export const DEFAULT_DESCRIPTIONS: Partial<Record<number, string>> = {
  [StatusCode.SUCCESS]: 'Ok',
  [StatusCode.MIXED_STATUS]: 'Mixed Success',
  [StatusCode.FAILURE]: 'Failure',
  [StatusCode.CONN_KEY_INVALID]: 'API key is invalid',
  [StatusCode.CONN_KEY_NOT_FOUND]: 'API key not found',
  [StatusCode.MODEL_DOES_NOT_EXIST]: 'Model does not exist',
  [StatusCode.MODEL_PREDICTION_FAILED]: 'Model prediction failed',
  [StatusCode.INPUT_INVALID_ARGUMENT]: 'Invalid input argument',
  [StatusCode.INPUT_INVALID_URL]: 'Invalid URL',
  [StatusCode.MODEL_INVALID_ARGUMENT]: 'Invalid model argument',
  [StatusCode.CONN_BAD_REQUEST_FORMAT]: 'Bad request format',
  [StatusCode.CONN_INVALID_REQUEST]: 'Invalid request',
  [StatusCode.INTERNAL_ERROR]: 'Internal error',
};
