package io.genguard.audit.http;

/**
 * The API with no database and no services behind its routes: enough for what it answers before any
 * route runs (its route table, static files, refusals of malformed requests).
 */
final class ApiWithoutServices {
  private ApiWithoutServices() {}

  static AuditApi create() {
    return new AuditApi(
        new AuditApi.Services(
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            AuditApi.Limits.defaults(),
            null,
            null,
            null,
            null,
            null));
  }
}
