import { Type } from 'class-transformer';
import {
  ArrayUnique,
  IsArray,
  IsIBAN,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';

const ID = /^[A-Za-z0-9_-]{1,64}$/;
export const GRANTABLE_PERMISSIONS = ['read:balance', 'transfer:funds', 'admin:audit', 'admin:users'] as const;

export class IdParams {
  @Matches(ID, { message: 'id must be 1 to 64 letters, digits, "_" or "-"' })
  id!: string;
}

export class TransferDto {
  @IsIBAN(undefined, { message: 'toIban must be a valid IBAN' })
  toIban!: string;

  @IsNumber({ maxDecimalPlaces: 2, allowNaN: false, allowInfinity: false }, { message: 'amount must be a number with at most 2 decimals' })
  @Min(0.01, { message: 'amount must be at least 0.01' })
  @Max(10_000, { message: 'amount must be at most 10000' })
  amount!: number;

  @IsIn(['EUR'], { message: 'currency must be EUR' })
  currency!: string;

  @IsOptional()
  @IsString()
  @MaxLength(140)
  reference?: string;
}

export class BeneficiaryDto {
  @IsString()
  @Length(1, 70)
  name!: string;

  @IsIBAN(undefined, { message: 'iban must be a valid IBAN' })
  iban!: string;
}

export class PermissionsDto {
  @IsArray()
  @ArrayUnique()
  @IsIn(GRANTABLE_PERMISSIONS, { each: true, message: `each value in permissions must be one of ${GRANTABLE_PERMISSIONS.join(', ')}` })
  permissions!: string[];
}

export class AuditQuery {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;
}
