// Table types for Kysely. They mirror migrations/; keep the two in step.
import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Json<T> = ColumnType<T, string, string>;

export interface SettingsTable {
  name: string;
  value: string;
}

export interface ClientsTable {
  client_id: string;
  client_secret_hash: string | null;
  metadata: Json<Record<string, unknown>>;
  enabled: Generated<boolean>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface UsersTable {
  sub: string;
  username: string;
  password_hash: string;
  claims: Json<Record<string, unknown>>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface LoginSessionsTable {
  id_hash: string;
  sub: string;
  auth_time: Timestamp;
  created_at: CreatedAt;
  expires_at: Timestamp;
  ended_at: Timestamp | null;
}

export interface ConsentsTable {
  sub: string;
  client_id: string;
  scope: string;
  granted_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface GrantsTable {
  grant_id: string;
  client_id: string;
  sub: string | null;
  scope: string;
  auth_time: Timestamp | null;
  claims: Json<Record<string, unknown>> | null;
  created_at: CreatedAt;
  expires_at: Timestamp;
  revoked_at: Timestamp | null;
  /** the login session it was given in (migrations/0008) */
  session_id_hash: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface AuthorizationCodesTable {
  code_hash: string;
  grant_id: string;
  client_id: string;
  sub: string;
  redirect_uri: string;
  scope: string;
  nonce: string | null;
  code_challenge: string | null;
  code_challenge_method: string | null;
  auth_time: Timestamp;
  session_id_hash: string | null;
  claims: Json<Record<string, unknown>> | null;
  include_auth_time: Generated<boolean>;
  created_at: CreatedAt;
  expires_at: Timestamp;
  consumed_at: Timestamp | null;
}

export interface RefreshTokensTable {
  token_hash: string;
  grant_id: string;
  client_id: string;
  scope: string;
  created_at: CreatedAt;
  expires_at: Timestamp;
  rotated_at: Timestamp | null;
}

export interface DeviceCodesTable {
  device_code_hash: string;
  user_code_hash: string;
  client_id: string;
  scope: string;
  status: Generated<'pending' | 'approved' | 'denied'>;
  sub: string | null;
  auth_time: Timestamp | null;
  granted_scope: string | null;
  interval: number;
  last_polled_at: Timestamp | null;
  created_at: CreatedAt;
  expires_at: Timestamp;
  consumed_at: Timestamp | null;
}

export interface TokenRevocationsTable {
  jti: string;
  expires_at: Timestamp;
  revoked_at: CreatedAt;
}

export interface ClientAssertionJtisTable {
  client_id: string;
  jti: string;
  expires_at: Timestamp;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  public_jwk: Json<Record<string, unknown>>;
  private_jwk_encrypted: string;
  created_at: CreatedAt;
  /** when the key starts signing; until then it is only published (migrations/0003) */
  activates_at: ColumnType<Date, Date | string | undefined, Date | string>;
  /** when it stops signing: the moment its successor activates */
  retired_at: Timestamp | null;
  publish_until: Timestamp | null;
}

export interface LoginAttemptsTable {
  key: string;
  failures: number;
  window_started_at: ColumnType<Date, Date | string | undefined, Date | string>;
  locked_until: Timestamp | null;
  last_attempt_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface LoginKnownAddressesTable {
  sub: string;
  ip: string;
  last_success_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: CreatedAt;
  event: string;
  client_id: string | null;
  sub: string | null;
  ip: string | null;
  detail: Json<Record<string, unknown>> | null;
}

export interface PushedAuthorizationRequestsTable {
  request_uri_hash: string;
  client_id: string;
  params: Json<Record<string, string>>;
  request_object: boolean;
  created_at: CreatedAt;
  expires_at: Timestamp;
}

/** migrations/0008: the clients a login session signed in to (Back-Channel Logout) */
export interface LoginSessionClientsTable {
  session_id_hash: string;
  client_id: string;
  created_at: CreatedAt;
}

/** migrations/0008: logout tokens still to deliver (Back-Channel Logout 1.0 §2.5) */
export interface BackchannelLogoutDeliveriesTable {
  id: Generated<number>;
  client_id: string;
  sub: string;
  sid: string;
  attempts: Generated<number>;
  next_attempt_at: ColumnType<Date, Date | string | undefined, Date | string>;
  locked_until: Timestamp | null;
  last_error: string | null;
  created_at: CreatedAt;
}

export interface Database {
  settings: SettingsTable;
  clients: ClientsTable;
  users: UsersTable;
  login_sessions: LoginSessionsTable;
  consents: ConsentsTable;
  grants: GrantsTable;
  authorization_codes: AuthorizationCodesTable;
  refresh_tokens: RefreshTokensTable;
  device_codes: DeviceCodesTable;
  token_revocations: TokenRevocationsTable;
  client_assertion_jtis: ClientAssertionJtisTable;
  signing_keys: SigningKeysTable;
  login_attempts: LoginAttemptsTable;
  login_known_addresses: LoginKnownAddressesTable;
  audit_log: AuditLogTable;
  pushed_authorization_requests: PushedAuthorizationRequestsTable;
  login_session_clients: LoginSessionClientsTable;
  backchannel_logout_deliveries: BackchannelLogoutDeliveriesTable;
}

export type UserRow = Selectable<UsersTable>;
export type ClientRow = Selectable<ClientsTable>;
export type GrantRow = Selectable<GrantsTable>;
export type AuthorizationCodeRow = Selectable<AuthorizationCodesTable>;
export type DeviceCodeRow = Selectable<DeviceCodesTable>;
export type SigningKeyRow = Selectable<SigningKeysTable>;
export type NewAuditEntry = Insertable<AuditLogTable>;
