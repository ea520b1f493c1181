/**
 * Clarifai v2 status codes (integers on the wire). Only the codes Sibyl produces or must
 * understand are listed; clarifai-grpc's status_code.proto defines the rest.
 */
export const StatusCode = {
  SUCCESS: 10000,
  MIXED_STATUS: 10010,
  FAILURE: 10020,
  TRY_AGAIN: 10030,
  CONN_INSUFFICIENT_SCOPES: 11007,
  CONN_KEY_INVALID: 11008,
  CONN_KEY_NOT_FOUND: 11009,
  CONN_BAD_REQUEST_FORMAT: 11100,
  CONN_INVALID_REQUEST: 11102,
  REQUEST_TOO_LARGE: 11104,
  MODEL_DOES_NOT_EXIST: 21200,
  MODEL_PERMISSION_DENIED: 21201,
  MODEL_INVALID_ARGUMENT: 21202,
  MODEL_PREDICTION_FAILED: 21313,
  MODEL_DEPLOYING: 21351,
  MODEL_BUSY_PLEASE_RETRY: 21354,
  MODEL_LOADING: 21355,
  RESOURCE_DOES_NOT_EXIST: 22002,
  USER_DOES_NOT_EXIST: 11010,
  APP_DOES_NOT_EXIST: 21100,
  INPUT_FAILED: 30002,
  INPUT_INVALID_ARGUMENT: 30104,
  INPUT_INVALID_URL: 30106,
  INPUT_DOES_NOT_EXIST: 30105,
  INPUT_ALREADY_EXISTS: 30300,
  INPUT_CONNECTION_FAILED: 39996,
  INTERNAL_ERROR: 98004,
} as const;

export type StatusCodeName = keyof typeof StatusCode;
export type StatusCodeValue = (typeof StatusCode)[StatusCodeName];

const NAMES = new Map<number, StatusCodeName>(
  Object.entries(StatusCode).map(([name, code]) => [code, name as StatusCodeName]),
);

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
  [StatusCode.INTERNAL_ERROR]: 'Internal error',
};
