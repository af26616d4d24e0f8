export {
  InstallTokenError,
  createInstallTokenSigner,
  installTokenAudience,
  signInstallVerificationToken,
  verifyInstallVerificationToken,
} from "./token.js";
export type {
  DownloadType,
  InstallTokenClaims,
  InstallTokenErrorCode,
  InstallTokenExpectations,
  InstallTokenRequest,
  InstallTokenSigner,
  InstallTokenSignerOptions,
  SignInstallVerificationTokenOptions,
} from "./token.js";
